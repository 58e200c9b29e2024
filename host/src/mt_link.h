/* The link layer of usb:// and verilator://?link=usb (docs/usb.md): the command stream in CMD
 * frames over a byte transport, answered by RSP frames (docs/protocol.md, "Link framing").
 * Whole commands are packed into frames up to the device's buffer (learnt from SYNC_ACK);
 * a frame is re-sent on a timeout or a CRC error up to MT_FRAME_RETRIES tries with the same
 * seq, which the device recognises, so no command is lost or run twice. */
#ifndef MT_LINK_H
#define MT_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "memtile.h"
#include "mt_transport.h"

typedef struct mt_link mt_link;

/* Takes the transport (closed by mt_link_close, also when this fails), sends SYNC(seq0) and
 * waits for SYNC_ACK. name prefixes messages (the device URI); timeout_ms is the wait per try
 * (see mt_transport_ops.recv). */
int mt_link_open(mt_transport *t, const char *name, uint16_t seq0, unsigned timeout_ms,
                 mt_link **out, char *err, size_t errlen);
void mt_link_close(mt_link *l);
/* mt_backend_ops.transact semantics (mt_kernel's): runs n_cmd command words, *n_rsp response
 * words, *consumed command words that ran (fewer when the device stopped). The response of one
 * frame must fit in the room left in rsp (the caller sizes rsp for mt_link_rsp_words()). */
int mt_link_transact(mt_link *l, const uint32_t *cmd, uint32_t n_cmd, uint32_t *rsp,
                     uint32_t rsp_cap, uint32_t *n_rsp, uint32_t *consumed, char *err,
                     size_t errlen);
/* The device's capacities from SYNC_ACK: CMD payload words, response words per RSP. */
uint32_t mt_link_cmd_words(const mt_link *l);
uint32_t mt_link_rsp_words(const mt_link *l);
void mt_link_get_stats(const mt_link *l, mt_link_stats *st);
/* The transport under the link (for its own statistics). */
mt_transport *mt_link_transport(mt_link *l);

#endif
