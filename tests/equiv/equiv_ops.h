/* The opcodes the RTL (rtl/mt_device.sv) implements: the only ones the CI equivalence tests
 * (make test) send. Add an opcode's name here when its engine lands; "UNKNOWN" stands for
 * every opcode >= MT_OP_COUNT. MT_EQUIV_OPS overrides the list at run time ("ALL" = every
 * opcode). */
#ifndef EQUIV_OPS_H
#define EQUIV_OPS_H

static const char *const equiv_rtl_ops[] = {
    /* mt_eng_ctl */
    "NOP", "INFO", "ECHO", "CONFIGURE", "SEED", "SET_LEVELS", "META_TABLE", "READ_LEVELS",
    "META_READ", "STATS_GET", "STATS_RESET", "UNKNOWN",
    /* mt_eng_state */
    "STATE_READ", "STATE_WRITE",
    /* mt_eng_fab, mt_eng_mvm */
    "FABRICATE", "READ_CELLS", "MVM",
    /* mt_eng_prog */
    "PROGRAM", "PULSE", "META_WRITE", "META_UPDATE",
};

#endif
