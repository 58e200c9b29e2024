# memtile reference board: Xilinx AC701 (XC7A200T-2FBG676C) with an FTDI UMFT601X-B module
# (FT601Q, USB 3.0 to 32-bit FIFO) on the AC701's FMC HPC connector (J30). See
# constraints/README.md for why this board, and docs/rtl.md "Synthesis" for what fits.
#
# Top-level ports are those of rtl/boards/ac701_top.sv: clk200_p/n, cpu_reset, ft_clk,
# ft_data[31:0], ft_be[3:0], ft_rxf_n, ft_txe_n, ft_rd_n, ft_wr_n, ft_oe_n, ft_siwu_n, ft_rst_n
# (`make lint` checks that every get_ports below names a port of the top and that every port
# has a pin: scripts/check_xdc_ports.py).
#
# Where the pin numbers come from (two independent public sources agree on every pin here):
#  - FMC LA signal -> AC701 package pin: the HPC connector table of the LiteX AC701 platform
#    (litex-hub/litex-boards, litex_boards/platforms/xilinx_ac701.py), which follows the
#    AC701 user guide (UG952, FMC HPC connections).
#  - FT601 signal -> FMC LA signal on the UMFT601X-B, and the resulting AC701 pins: the
#    PCILeech AC701 + FT601 design (ufrisk/pcileech-fpga, ac701_ft601/src/pcileech_ac701.xdc),
#    a design used on this exact board pair.
#  - SYSCLK (200 MHz differential, bank 34 at 1.5 V) and CPU_RESET (pushbutton SW7, active
#    high, bank 34): the LiteX AC701 platform (clk200 R3/P3 DIFF_SSTL15, cpu_reset U4 SSTL15).
# The FMC's VADJ rail is 2.5 V on the AC701 by default, hence LVCMOS25 on the FIFO bus.

## ---------------------------------------------------------------- system clock and reset
set_property -dict {PACKAGE_PIN R3 IOSTANDARD DIFF_SSTL15} [get_ports clk200_p]
set_property -dict {PACKAGE_PIN P3 IOSTANDARD DIFF_SSTL15} [get_ports clk200_n]
create_clock -name clk200 -period 5.000 [get_ports clk200_p]

# Pushbutton, asynchronous to everything: the board top synchronises it into rst_i (a
# synchronous, active-high reset), so the pin itself is not timed.
set_property -dict {PACKAGE_PIN U4 IOSTANDARD SSTL15} [get_ports cpu_reset]
set_false_path -from [get_ports cpu_reset]

## ---------------------------------------------------------------- FT601 245 synchronous FIFO
# FT601 CLK (100 MHz in the chip's default configuration) on FMC LA18_CC_P, a clock-capable
# pin. The FIFO bus is registered in this clock domain; the bridge crosses into the core clock
# through asynchronous FIFOs, hence the clock groups below.
set_property -dict {PACKAGE_PIN G20 IOSTANDARD LVCMOS25} [get_ports ft_clk]
create_clock -name ft_clk -period 10.000 [get_ports ft_clk]
set_clock_groups -asynchronous -group [get_clocks -include_generated_clocks clk200] \
                               -group [get_clocks ft_clk]

# control (FMC signal in the comment)
set_property -dict {PACKAGE_PIN A18 IOSTANDARD LVCMOS25} [get_ports ft_rst_n]   ;# LA10_N
set_property -dict {PACKAGE_PIN D18 IOSTANDARD LVCMOS25} [get_ports ft_oe_n]    ;# LA00_CC_P
set_property -dict {PACKAGE_PIN C18 IOSTANDARD LVCMOS25} [get_ports ft_rd_n]    ;# LA00_CC_N
set_property -dict {PACKAGE_PIN C17 IOSTANDARD LVCMOS25} [get_ports ft_wr_n]    ;# LA08_P
set_property -dict {PACKAGE_PIN H16 IOSTANDARD LVCMOS25} [get_ports ft_rxf_n]   ;# LA07_P
set_property -dict {PACKAGE_PIN G16 IOSTANDARD LVCMOS25} [get_ports ft_txe_n]   ;# LA07_N
set_property -dict {PACKAGE_PIN B17 IOSTANDARD LVCMOS25} [get_ports ft_siwu_n]  ;# LA08_N

# byte enables
set_property -dict {PACKAGE_PIN A22 IOSTANDARD LVCMOS25} [get_ports {ft_be[0]}] ;# LA15_N
set_property -dict {PACKAGE_PIN B22 IOSTANDARD LVCMOS25} [get_ports {ft_be[1]}] ;# LA15_P
set_property -dict {PACKAGE_PIN D16 IOSTANDARD LVCMOS25} [get_ports {ft_be[2]}] ;# LA09_N
set_property -dict {PACKAGE_PIN E16 IOSTANDARD LVCMOS25} [get_ports {ft_be[3]}] ;# LA09_P

# data
set_property -dict {PACKAGE_PIN G26 IOSTANDARD LVCMOS25} [get_ports {ft_data[0]}]  ;# LA32_N
set_property -dict {PACKAGE_PIN F25 IOSTANDARD LVCMOS25} [get_ports {ft_data[1]}]  ;# LA33_N
set_property -dict {PACKAGE_PIN H26 IOSTANDARD LVCMOS25} [get_ports {ft_data[2]}]  ;# LA32_P
set_property -dict {PACKAGE_PIN G25 IOSTANDARD LVCMOS25} [get_ports {ft_data[3]}]  ;# LA33_P
set_property -dict {PACKAGE_PIN D25 IOSTANDARD LVCMOS25} [get_ports {ft_data[4]}]  ;# LA30_N
set_property -dict {PACKAGE_PIN D26 IOSTANDARD LVCMOS25} [get_ports {ft_data[5]}]  ;# LA31_N
set_property -dict {PACKAGE_PIN E25 IOSTANDARD LVCMOS25} [get_ports {ft_data[6]}]  ;# LA30_P
set_property -dict {PACKAGE_PIN E26 IOSTANDARD LVCMOS25} [get_ports {ft_data[7]}]  ;# LA31_P
set_property -dict {PACKAGE_PIN K23 IOSTANDARD LVCMOS25} [get_ports {ft_data[8]}]  ;# LA28_N
set_property -dict {PACKAGE_PIN F24 IOSTANDARD LVCMOS25} [get_ports {ft_data[9]}]  ;# LA29_N
set_property -dict {PACKAGE_PIN K22 IOSTANDARD LVCMOS25} [get_ports {ft_data[10]}] ;# LA28_P
set_property -dict {PACKAGE_PIN G24 IOSTANDARD LVCMOS25} [get_ports {ft_data[11]}] ;# LA29_P
set_property -dict {PACKAGE_PIN H18 IOSTANDARD LVCMOS25} [get_ports {ft_data[12]}] ;# LA24_N
set_property -dict {PACKAGE_PIN F22 IOSTANDARD LVCMOS25} [get_ports {ft_data[13]}] ;# LA25_N
set_property -dict {PACKAGE_PIN J18 IOSTANDARD LVCMOS25} [get_ports {ft_data[14]}] ;# LA24_P
set_property -dict {PACKAGE_PIN G22 IOSTANDARD LVCMOS25} [get_ports {ft_data[15]}] ;# LA25_P
set_property -dict {PACKAGE_PIN E23 IOSTANDARD LVCMOS25} [get_ports {ft_data[16]}] ;# LA27_N
set_property -dict {PACKAGE_PIN H24 IOSTANDARD LVCMOS25} [get_ports {ft_data[17]}] ;# LA26_N
set_property -dict {PACKAGE_PIN F23 IOSTANDARD LVCMOS25} [get_ports {ft_data[18]}] ;# LA27_P
set_property -dict {PACKAGE_PIN J24 IOSTANDARD LVCMOS25} [get_ports {ft_data[19]}] ;# LA26_P
set_property -dict {PACKAGE_PIN H19 IOSTANDARD LVCMOS25} [get_ports {ft_data[20]}] ;# LA21_N
set_property -dict {PACKAGE_PIN L18 IOSTANDARD LVCMOS25} [get_ports {ft_data[21]}] ;# LA22_N
set_property -dict {PACKAGE_PIN J19 IOSTANDARD LVCMOS25} [get_ports {ft_data[22]}] ;# LA21_P
set_property -dict {PACKAGE_PIN L17 IOSTANDARD LVCMOS25} [get_ports {ft_data[23]}] ;# LA22_P
set_property -dict {PACKAGE_PIN J20 IOSTANDARD LVCMOS25} [get_ports {ft_data[24]}] ;# LA23_N
set_property -dict {PACKAGE_PIN K20 IOSTANDARD LVCMOS25} [get_ports {ft_data[25]}] ;# LA23_P
set_property -dict {PACKAGE_PIN L14 IOSTANDARD LVCMOS25} [get_ports {ft_data[26]}] ;# LA19_N
set_property -dict {PACKAGE_PIN M14 IOSTANDARD LVCMOS25} [get_ports {ft_data[27]}] ;# LA19_P
set_property -dict {PACKAGE_PIN M17 IOSTANDARD LVCMOS25} [get_ports {ft_data[28]}] ;# LA20_N
set_property -dict {PACKAGE_PIN M16 IOSTANDARD LVCMOS25} [get_ports {ft_data[29]}] ;# LA20_P
set_property -dict {PACKAGE_PIN J21 IOSTANDARD LVCMOS25} [get_ports {ft_data[30]}] ;# LA17_CC_N
set_property -dict {PACKAGE_PIN K21 IOSTANDARD LVCMOS25} [get_ports {ft_data[31]}] ;# LA17_CC_P

# Fast edges on what the FPGA drives at 100 MHz.
set_property SLEW FAST [get_ports {ft_data[*] ft_be[*] ft_oe_n ft_rd_n ft_wr_n ft_siwu_n}]

# I/O timing against ft_clk. The FT601 launches its outputs (DATA, BE, RXF_N, TXE_N) from the
# CLK it drives and samples the FPGA's outputs on the next rising edge.
# NOT FROM THE DATASHEET: the FT601 datasheet's "245 Synchronous FIFO" timing table
# (DS_FT600Q-FT601Q; its clock period, output valid delay, setup and hold rows) could not be
# read from this machine (docs/boards.md, "FT601 timing", says where it was looked for). The
# numbers below are conservative assumptions built from what public FT601 designs use, each
# widened by a board allowance of 0.5 ns (CLK-to-DATA trace skew on the UMFT601X-B and the
# FMC, not measured). CHECK THEM AGAINST THE DATASHEET BEFORE THE FIRST BITSTREAM:
#   input  -max = FT601 output valid delay max + allowance: 7.0 (all three public designs
#                 agree on 7.0) + 0.5 = 7.5 ns
#   input  -min = FT601 output valid delay min - allowance: 1.0 (the lowest value a public
#                 design attributes to the datasheet) - 0.5 = 0.5 ns. The 6.5 ns used until
#                 now (the PCILeech design's) assumed the FT601 never changes DATA before
#                 6.5 ns after CLK: too optimistic for the hold check.
#   output -max = FT601 setup time + allowance: 1.0 (the larger of the public designs' 1.0 and
#                 0.5) + 0.5 = 1.5 ns
#   output -min = -(FT601 hold time + allowance): -(0.5 + 0.5) = -1.0 ns (a hold of 0.5 ns, as
#                 the Lime design's -0.5 implies; PCILeech's +4.8 assumed no hold at all)
# The output delays also time the tristate-control (T) flops of DATA and BE: Vivado checks
# the enable path of each IOBUF against them.
set_input_delay  -clock ft_clk -max 7.5 [get_ports {ft_data[*] ft_be[*] ft_rxf_n ft_txe_n}]
set_input_delay  -clock ft_clk -min 0.5 [get_ports {ft_data[*] ft_be[*] ft_rxf_n ft_txe_n}]
set_output_delay -clock ft_clk -max 1.5 [get_ports {ft_data[*] ft_be[*] ft_oe_n ft_rd_n ft_wr_n}]
set_output_delay -clock ft_clk -min -1.0 [get_ports {ft_data[*] ft_be[*] ft_oe_n ft_rd_n ft_wr_n}]

# Pad flops (docs/boards.md, "Pad structure"): every flop on a DATA/BE/flag pin goes into the
# pin's I/O block: the input flop of all 38 input pins, and of the 36 DATA/BE pins also the
# tristate-control flop and (DATA only; BE is a constant 4'hF) the output flop. The RTL marks
# the same flops (* IOB = "TRUE" *) (rtl/mt_ft601_bridge.sv). RD_N, WR_N and OE_N also feed
# the bridge's own logic and stay in the fabric.
set_property IOB TRUE [get_ports {ft_data[*] ft_be[*] ft_rxf_n ft_txe_n}]

# SIWU_N is held high and RESET_N is driven once from the reset logic: not timed.
set_false_path -to [get_ports {ft_siwu_n ft_rst_n}]

## ---------------------------------------------------------------- configuration
# Quad-SPI boot flash, as both sources above configure it.
set_property BITSTREAM.CONFIG.SPI_BUSWIDTH 4 [current_design]
