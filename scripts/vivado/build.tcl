# Bitstream of the memtile board top, Vivado non-project mode (docs/boards.md, "AC701 +
# UMFT601X-B (usb://)"). Run by `make bitstream BOARD=ac701`:
#   vivado -mode batch -source scripts/vivado/build.tcl -tclargs <board> <repo root> <out dir>
# Reads rtl/*.sv and rtl/boards/<board>_top.sv with the board's XDC, synthesizes, places,
# routes, writes timing and utilization reports and <out dir>/<board>.bit. Not run on the
# development machine (no Vivado there): the first run on a machine with Vivado is its test.
if {[llength $argv] != 3} {
  puts stderr "usage: vivado -mode batch -source build.tcl -tclargs BOARD ROOT OUTDIR"
  exit 2
}
lassign $argv board root out

# The boards this script knows: part, top module and constraint file.
array set part {ac701 xc7a200tfbg676-2}
array set xdc  {ac701 constraints/ac701_umft601x.xdc}
if {![info exists part($board)]} {
  puts stderr "unknown board '$board' (known: [array names part])"
  exit 2
}
set top ${board}_top
file mkdir $out

set_part $part($board)
# RTL: every module of rtl/ and the board top; synthesis keeps only what the top instantiates.
# The include directories: rtl/ (the engines' shared .vh fragments) and generated/ (the
# constants generated from docs/protocol.json and the noise tables: mt_protocol.vh,
# mt_eng_counts.vh, mt_gauss_knots.vh). tests/scripts/test_bitstream_novivado.sh checks with
# scripts/check_vivado_sources.py that every `include of these files resolves in incdirs.
# Vivado defines SYNTHESIS itself, so the simulation-only assertions stay out.
set incdirs [list $root/rtl $root/generated]
set_property include_dirs $incdirs [current_fileset]
read_verilog -sv [glob $root/rtl/*.sv]
read_verilog -sv $root/rtl/boards/$top.sv
read_xdc $root/$xdc($board)

synth_design -top $top -part $part($board) -include_dirs $incdirs
write_checkpoint -force $out/post_synth.dcp
report_utilization -file $out/utilization_synth.txt

opt_design
place_design
phys_opt_design
route_design
write_checkpoint -force $out/post_route.dcp
report_utilization -file $out/utilization.txt
report_timing_summary -max_paths 20 -file $out/timing.txt
report_io -file $out/io.txt

# Refuse a bitstream that misses timing: a board that fails intermittently is worse than none.
set wns [get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]]
set whs [get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -hold]]
puts "worst setup slack $wns ns, worst hold slack $whs ns"
if {$wns < 0 || $whs < 0} {
  puts stderr "timing not met (setup $wns ns, hold $whs ns): see $out/timing.txt; no bitstream"
  exit 1
}
write_bitstream -force $out/$board.bit
puts "bitstream: $out/$board.bit"
