/* usb:// through the real libusb against a fake FT601 that umockdev presents to it: a usbfs
 * device 0403:601f with the FT601's two interfaces, whose bulk pipes lead to a device written
 * from docs/protocol.md ("Link framing") around the C model. Covers open by VID:PID and by
 * BUS/ADDR, the session requests, commands and their answers, a timeout (the device stops
 * answering) and an unplug mid-run, each with a clear MT_ERR_* code and message. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <umockdev.h>

#include <cmocka.h>

#include "memtile.h"
#include "mt_backend.h"
#include "mt_frame.h"
#include "mt_protocol.h"

#define CMD_WORDS 4096u
#define RSP_WORDS 8192u
#define DEVNODE "/dev/bus/usb/001/002"

/* ---- the fake FT601 and the device behind it ---------------------------- */

typedef struct {
  pthread_mutex_t mu;
  UMockdevTestbed *tb;
  UMockdevIoctlBase *handler;
  /* device */
  mt_backend *model;
  mt_frame_rx *rx;
  uint16_t last_seq;
  int have_kept;
  uint8_t *kept;
  size_t kept_n;
  uint8_t *out; /* bytes waiting in the FT601 for the host */
  size_t out_n;
  uint32_t *rsp;
  /* usbfs */
  GList *done;      /* URBs ready to reap */
  GList *in_flight; /* IN URBs waiting for data */
  GList *discarded;
  int mute, unplugged;
  unsigned sessions, data_out;
} fake_t;

static fake_t fk;

static void queue_out(const uint8_t *b, size_t n) {
  assert_true(fk.out_n + n <= 8 * MT_FRAME_BYTES(RSP_WORDS));
  memcpy(fk.out + fk.out_n, b, n);
  fk.out_n += n;
}

static void device_frame(const mt_frame *f) {
  static uint8_t tmp[MT_FRAME_BYTES(2)];
  if (f->kind == MT_FRAME_KIND_SYNC && f->len == 0) {
    fk.last_seq = (uint16_t)f->seq;
    fk.have_kept = 0;
    uint32_t p[2] = {CMD_WORDS, RSP_WORDS};
    queue_out(tmp, mt_frame_encode(MT_FRAME_KIND_SYNC_ACK, f->seq, p, 2, tmp));
  } else if (f->kind == MT_FRAME_KIND_CMD && f->seq == (uint16_t)(fk.last_seq + 1)) {
    uint32_t n_rsp = 0, consumed = 0;
    char err[256];
    assert_int_equal(mt_backend_model.transact(fk.model, f->payload, f->len, fk.rsp + 1,
                                               RSP_WORDS - 1, &n_rsp, &consumed, err, sizeof err),
                     MT_OK);
    fk.rsp[0] = consumed;
    fk.kept_n = mt_frame_encode(MT_FRAME_KIND_RSP, f->seq, fk.rsp, n_rsp + 1, fk.kept);
    fk.have_kept = 1;
    fk.last_seq = (uint16_t)f->seq;
    queue_out(fk.kept, fk.kept_n);
  } else if (f->kind == MT_FRAME_KIND_CMD && f->seq == fk.last_seq && fk.have_kept) {
    queue_out(fk.kept, fk.kept_n);
  }
}

/* Fills IN URBs from the bytes waiting, moving them to the done list. */
static void serve_in(void) {
  while (fk.in_flight && fk.out_n) {
    UMockdevIoctlData *d = fk.in_flight->data;
    struct usbdevfs_urb *urb = (struct usbdevfs_urb *)d->data;
    UMockdevIoctlData *buf = umockdev_ioctl_data_resolve(
        d, G_STRUCT_OFFSET(struct usbdevfs_urb, buffer), (gsize)urb->buffer_length, NULL);
    size_t n = fk.out_n < (size_t)urb->buffer_length ? fk.out_n : (size_t)urb->buffer_length;
    memcpy(buf->data, fk.out, n);
    memmove(fk.out, fk.out + n, fk.out_n - n);
    fk.out_n -= n;
    g_object_unref(buf);
    urb->actual_length = (int)n;
    urb->status = 0;
    fk.in_flight = g_list_delete_link(fk.in_flight, fk.in_flight);
    fk.done = g_list_append(fk.done, d);
  }
}

static gint same_addr(gconstpointer data, gconstpointer addr) {
  return ((const UMockdevIoctlData *)data)->client_addr != (gulong)addr;
}

static void reap_one(UMockdevIoctlClient *client, UMockdevIoctlData *arg, GList **list) {
  UMockdevIoctlData *d = (*list)->data;
  *list = g_list_delete_link(*list, *list);
  UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), NULL);
  umockdev_ioctl_data_set_ptr(ptr, 0, d);
  g_object_unref(ptr);
  umockdev_ioctl_data_unref(d);
  umockdev_ioctl_client_complete(client, 0, 0);
}

static gboolean on_ioctl(UMockdevIoctlBase *h, UMockdevIoctlClient *client, gpointer user) {
  (void)h;
  (void)user;
  gulong req = umockdev_ioctl_client_get_request(client);
  UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
  pthread_mutex_lock(&fk.mu);
  gboolean handled = TRUE;
  switch (req) {
    case USBDEVFS_GET_CAPABILITIES: {
      UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);
      *(guint32 *)d->data = USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                            USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
      g_object_unref(d);
      umockdev_ioctl_client_complete(client, 0, 0);
      break;
    }
    case USBDEVFS_CLAIMINTERFACE:
    case USBDEVFS_RELEASEINTERFACE:
    case USBDEVFS_CLEAR_HALT:
    case USBDEVFS_RESET:
    case USBDEVFS_RESETEP:
    case USBDEVFS_SETCONFIGURATION:
      umockdev_ioctl_client_complete(client, 0, 0);
      break;
    case USBDEVFS_SUBMITURB: {
      if (fk.unplugged) {
        umockdev_ioctl_client_complete(client, -1, ENODEV);
        break;
      }
      UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
      struct usbdevfs_urb *urb = (struct usbdevfs_urb *)d->data;
      if (urb->endpoint & 0x80) {
        fk.in_flight = g_list_append(fk.in_flight, d);
        serve_in();
      } else {
        UMockdevIoctlData *buf = umockdev_ioctl_data_resolve(
            d, G_STRUCT_OFFSET(struct usbdevfs_urb, buffer), (gsize)urb->buffer_length, NULL);
        if (urb->endpoint == 0x01) {
          fk.sessions++;
        } else if (urb->endpoint == 0x02 && !fk.mute) {
          fk.data_out++;
          size_t got = mt_frame_rx_push(fk.rx, buf->data, (size_t)urb->buffer_length);
          assert_int_equal(got, (size_t)urb->buffer_length);
          mt_frame f;
          while (mt_frame_rx_next(fk.rx, &f)) device_frame(&f);
        }
        g_object_unref(buf);
        urb->actual_length = urb->buffer_length;
        urb->status = 0;
        fk.done = g_list_append(fk.done, d);
        serve_in();
      }
      umockdev_ioctl_client_complete(client, 0, 0);
      break;
    }
    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY:
      if (fk.discarded) {
        ((struct usbdevfs_urb *)((UMockdevIoctlData *)fk.discarded->data)->data)->status = -ENOENT;
        reap_one(client, arg, &fk.discarded);
      } else if (fk.done) {
        reap_one(client, arg, &fk.done);
      } else {
        umockdev_ioctl_client_complete(client, -1, fk.unplugged ? ENODEV : EAGAIN);
      }
      break;
    case USBDEVFS_DISCARDURB: {
      GList *l = g_list_find_custom(fk.in_flight, *(void **)arg->data, same_addr);
      if (l) {
        fk.discarded = g_list_append(fk.discarded, l->data);
        fk.in_flight = g_list_delete_link(fk.in_flight, l);
        umockdev_ioctl_client_complete(client, 0, 0);
      } else {
        umockdev_ioctl_client_complete(client, -1, EINVAL);
      }
      break;
    }
    default:
      handled = FALSE;
  }
  pthread_mutex_unlock(&fk.mu);
  return handled;
}

/* Device 18 bytes (USB 3.0, 0403:601f) and a configuration with interface 0 (EP 0x01 bulk OUT,
 * EP 0x81 interrupt IN) and interface 1 (EP 0x02 bulk OUT, EP 0x82 bulk IN), 512-byte packets. */
static const char descriptors[] =
    "120100030000000903041f60000001020301"
    "0902370002010080320904000002ffffff00070501020002000705810310001009040100"
    "02ffffff0007050202000200070582020002 00";

static int setup(void **state) {
  (void)state;
  memset(&fk, 0, sizeof fk);
  pthread_mutex_init(&fk.mu, NULL);
  char err[256];
  if (mt_backend_model.open("?tiles=2", &fk.model, err, sizeof err) != MT_OK) return -1;
  fk.rx = mt_frame_rx_new(CMD_WORDS);
  fk.kept = malloc(MT_FRAME_BYTES(RSP_WORDS));
  fk.out = malloc(8 * MT_FRAME_BYTES(RSP_WORDS));
  fk.rsp = malloc(4u * RSP_WORDS);
  fk.last_seq = 0xFFFF;
  fk.tb = umockdev_testbed_new();
  fk.handler = umockdev_ioctl_base_new();
  g_signal_connect(fk.handler, "handle-ioctl", G_CALLBACK(on_ioctl), NULL);
  if (!umockdev_testbed_attach_ioctl(fk.tb, DEVNODE, fk.handler, NULL)) return -1;
  char desc[sizeof descriptors];
  size_t k = 0;
  for (const char *p = descriptors; *p; p++)
    if (*p != ' ') desc[k++] = *p;
  desc[k] = '\0';
  char rec[2048];
  snprintf(rec, sizeof rec,
           "P: /devices/usb1/1-1\nN: bus/usb/001/002\nE: SUBSYSTEM=usb\nE: DRIVER=usb\n"
           "E: BUSNUM=001\nE: DEVNUM=002\nE: DEVNAME=" DEVNODE "\nE: DEVTYPE=usb_device\n"
           "A: bConfigurationValue=1\\n\nA: busnum=1\\n\nA: devnum=2\\n\nA: speed=5000\\n\n"
           "H: descriptors=%s\n", desc);
  return umockdev_testbed_add_from_string(fk.tb, rec, NULL) && fk.rx && fk.kept && fk.out && fk.rsp
             ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  g_clear_object(&fk.handler);
  g_clear_object(&fk.tb);
  mt_backend_model.close(fk.model);
  mt_frame_rx_free(fk.rx);
  free(fk.kept);
  free(fk.out);
  free(fk.rsp);
  return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void commands_round_trip(void **state) {
  (void)state;
  const char *uris[2] = {"usb://0403:601f?timeout=200", "usb://1/2?timeout=200"};
  for (int k = 0; k < 2; k++) {
    mt_dev *dev = NULL;
    int rc = mt_dev_open(uris[k], &dev);
    if (rc != MT_OK) fail_msg("%s: %s", uris[k], mt_dev_errmsg(dev));
    assert_int_equal(mt_dev_get_info(dev)->tiles, 2);
    assert_int_equal(mt_dev_seed(dev, 42), MT_OK); /* queued */
    uint64_t cnt[MT_CNT_COUNT];
    assert_int_equal(mt_dev_stats(dev, cnt, MT_CNT_COUNT), MT_OK); /* sends both */
    mt_link_stats st;
    assert_int_equal(mt_dev_link_stats(dev, &st), MT_OK);
    assert_int_equal(st.commands, 3); /* INFO, SEED, STATS_GET */
    assert_int_equal(st.commands_issued, 3);
    assert_int_equal(st.retransmits, 0);
    assert_int_equal(st.max_command_words, CMD_WORDS);
    mt_dev_close(dev);
  }
  assert_true(fk.sessions > 0); /* every read was announced on pipe 0x01 */
}

/* A snapshot moves more than a frame holds: STATE_READ and STATE_WRITE are cut to the link's
 * sizes, and a restore gives back the same image. */
static void snapshot_through_small_frames(void **state) {
  (void)state;
  mt_dev *dev = NULL;
  assert_int_equal(mt_dev_open("usb://0403:601f?timeout=200", &dev), MT_OK);
  assert_int_equal(mt_dev_seed(dev, 9), MT_OK);
  unsigned char *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  if (mt_dev_snapshot_bytes(dev, &a, &na) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  assert_int_equal(mt_dev_seed(dev, 10), MT_OK);
  if (mt_dev_restore_bytes(dev, a, na, "image") != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  if (mt_dev_snapshot_bytes(dev, &b, &nb) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, na);
  mt_link_stats st;
  assert_int_equal(mt_dev_link_stats(dev, &st), MT_OK);
  assert_int_equal(st.max_response_words, RSP_WORDS - 1);
  assert_int_equal(st.commands, st.commands_issued);
  free(a);
  free(b);
  mt_dev_close(dev);
}

static void timeout_is_reported(void **state) {
  (void)state;
  mt_dev *dev = NULL;
  assert_int_equal(mt_dev_open("usb://0403:601f?timeout=20", &dev), MT_OK);
  pthread_mutex_lock(&fk.mu);
  fk.mute = 1;
  pthread_mutex_unlock(&fk.mu);
  uint64_t cnt[MT_CNT_COUNT];
  assert_int_equal(mt_dev_stats(dev, cnt, MT_CNT_COUNT), MT_ERR_TIMEOUT);
  const char *m = mt_dev_errmsg(dev);
  if (!strstr(m, "usb://0403:601f: no valid answer to frame seq") || !strstr(m, "after 8 tries (20 ms each)"))
    fail_msg("message: %s", m);
  pthread_mutex_lock(&fk.mu);
  fk.mute = 0;
  pthread_mutex_unlock(&fk.mu);
  mt_dev_close(dev);
}

static void unplug_is_reported(void **state) {
  (void)state;
  mt_dev *dev = NULL;
  assert_int_equal(mt_dev_open("usb://0403:601f?timeout=200", &dev), MT_OK);
  pthread_mutex_lock(&fk.mu);
  fk.unplugged = 1;
  pthread_mutex_unlock(&fk.mu);
  uint64_t cnt[MT_CNT_COUNT];
  assert_int_equal(mt_dev_stats(dev, cnt, MT_CNT_COUNT), MT_ERR_NODEV);
  if (!strstr(mt_dev_errmsg(dev), "the device was unplugged"))
    fail_msg("message: %s", mt_dev_errmsg(dev));
  mt_dev_close(dev);
  pthread_mutex_lock(&fk.mu);
  fk.unplugged = 0;
  pthread_mutex_unlock(&fk.mu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(commands_round_trip),
      cmocka_unit_test(snapshot_through_small_frames),
      cmocka_unit_test(timeout_is_reported),
      cmocka_unit_test(unplug_is_reported),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
