/* A byte transport under the link layer (mt_link.c): the libusb FT601 transport (usb://), the
 * simulated one over the pin-level FT601 model (verilator://?link=usb), and the fault injector
 * that wraps either. Each implementation embeds mt_transport as its first member. */
#ifndef MT_TRANSPORT_H
#define MT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mt_transport mt_transport;

typedef struct {
  /* Sends n bytes (one whole frame per call). MT_OK or an MT_ERR_* code and a message. */
  int (*send)(mt_transport *t, const uint8_t *buf, size_t n, char *err, size_t errlen);
  /* Waits up to timeout_ms for bytes and copies up to cap of them to buf: MT_OK with *got > 0,
   * MT_ERR_TIMEOUT when none came in time, or another MT_ERR_* code (unplugged: MT_ERR_NODEV)
   * and a message. A simulated transport counts simulated time, see its header. */
  int (*recv)(mt_transport *t, uint8_t *buf, size_t cap, unsigned timeout_ms, size_t *got,
              char *err, size_t errlen);
  void (*close)(mt_transport *t);
} mt_transport_ops;

struct mt_transport {
  const mt_transport_ops *ops;
};

/* Fault injection (docs/usb.md): wraps inner, which it then owns. spec is "drop:P,corrupt:P,
 * dup:P" (any subset, any order, P a probability in [0, 1] per frame and direction); seed
 * seeds the generator, so a run repeats exactly. On a bad spec returns MT_ERR_INVAL with a
 * message naming the field and value, and leaves inner open. */
typedef struct {
  uint64_t dropped, corrupted, duplicated;
} mt_fault_stats;

int mt_transport_faults(mt_transport *inner, const char *spec, uint64_t seed, mt_transport **out,
                        char *err, size_t errlen);
/* Faults injected so far by a transport that mt_transport_faults made. */
void mt_transport_fault_stats(const mt_transport *t, mt_fault_stats *st);

#endif
