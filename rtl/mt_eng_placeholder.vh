// Body of an engine that is not written yet: it answers ERR_OPCODE (detail op, 0) for every
// opcode routed to it and drives nothing else. Deleted when the last engine lands.
  logic done_q;
  always_ff @(posedge clk_i) begin
    if (rst_i) done_q <= 1'b0;
    else done_q <= start_i;
  end
  always_comb begin
    done_o = done_q;
    status_o = done_q ? 16'd2 : 16'd0;
    detail0_o = done_q ? {24'd0, op_i} : 32'd0;
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
  end
  wire unused_inputs = ^{len_i, cap_i, pl_data_i, cfg_i, configured_i, levels_i, fabricated_i,
                         lt_data_i, mt_data_i, g_rdata_i, nz_avail_i, nz_u_i, nz_z_i, nz_state_i,
                         fb_avail_i, fb_u_i, fb_z_i, gm_rdata_i, dm_rdata_i, lm_rdata_i, hm_rdata_i};
