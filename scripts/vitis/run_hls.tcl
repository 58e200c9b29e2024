# Vitis HLS flow of the kernel mt_top (scripts/vitis/README.md). Run by build_xclbin.sh:
#   vitis_hls -f scripts/vitis/run_hls.tcl -tclargs STEPS PART PERIOD_NS OUTDIR
# STEPS is a comma-separated subset of csim, csynth, cosim, export.
#   csim, cosim: the test bench tb_mt_top.c replays stream_small.bin through mt_top and the
#                golden model at the bench geometry (32x32 weights, 2 tiles, as recorded), so
#                that co-simulation of the RTL finishes in minutes;
#   csynth, export: the card geometry (128x128 weights, MT_XRT_TILES tiles), exported as
#                OUTDIR/mt_top.xo for v++ --link.
set root [file normalize [file join [file dirname [info script]] .. ..]]
lassign $argv steps part period outdir
set steps [split $steps ,]
set inc "-I$root/generated -I$root/hls -I$root/scripts/vitis"
set tiles [expr {[info exists ::env(MT_XRT_TILES)] ? $::env(MT_XRT_TILES) : 16}]

proc project {name defs} {
  global root inc part period outdir
  open_project -reset $outdir/$name
  set_top mt_top
  foreach f [lsort [glob $root/hls/*.c]] {
    add_files $f -cflags "$inc $defs"
  }
  add_files -tb $root/scripts/vitis/tb_mt_top.c -cflags "$inc $defs"
  add_files -tb $root/scripts/vitis/stream_small.bin
  open_solution -reset sol -flow_target vitis
  set_part $part
  create_clock -period $period -name default
}

if {[lsearch $steps csim] >= 0 || [lsearch $steps cosim] >= 0} {
  project hls_bench "-DMT_ROWS=32u -DMT_COLS=32u -DMT_XRT_TILES=2u"
  set stream $root/scripts/vitis/stream_small.bin
  if {[lsearch $steps csim] >= 0} { csim_design -argv $stream }
  if {[lsearch $steps cosim] >= 0} {
    csynth_design
    cosim_design -argv $stream
  }
  close_project
}
if {[lsearch $steps csynth] >= 0 || [lsearch $steps export] >= 0} {
  project hls_card "-DMT_XRT_TILES=${tiles}u"
  csynth_design
  if {[lsearch $steps export] >= 0} {
    export_design -format xo -output $outdir/mt_top.xo
  }
  close_project
}
exit
