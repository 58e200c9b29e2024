// Idle values of every engine output (docs/rtl.md, "Engines"). mt_device ORs the outputs of
// all engines onto the shared buses, so an engine that is not driving an output must hold it
// at 0. Included as the first statements of an engine's one output always_comb: the engine
// then assigns only the outputs it drives, in the states that drive them, and every output
// still has a value on every path (no latch, one driver per output).
    done_o = 1'b0;
    status_o = '0;
    detail0_o = '0;
    detail1_o = '0;
    n_out_o = '0;
    pl_addr_o = '0;
    rsp_we_o = 1'b0;
    rsp_addr_o = '0;
    rsp_data_o = '0;
    lt_addr_o = '0;
    mt_addr_o = '0;
    g_we_o = 1'b0;
    g_addr_o = '0;
    g_wdata_o = '0;
    g_raddr_o = '0;
    fab_set_o = 1'b0;
    fab_tile_o = '0;
    cnt_inc_o = '0;
    cnt_clear_o = 1'b0;
    nz_take_o = '0;
    nz_seed_o = 1'b0;
    nz_seed_val_o = '0;
    nz_load_o = 1'b0;
    nz_load_state_o = '0;
    fb_take_o = '0;
    fb_seed_o = 1'b0;
    fb_seed_val_o = '0;
    gm_addr_o = '0;
    gm_we_o = '0;
    gm_wdata_o = '0;
    dm_addr_o = '0;
    dm_we_o = '0;
    dm_wdata_o = '0;
    lm_addr_o = '0;
    lm_we_o = '0;
    lm_wdata_o = '0;
    hm_addr_o = '0;
    hm_we_o = '0;
    hm_wdata_o = '0;
