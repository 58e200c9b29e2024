/* Synthetic xclbin writer (see mt_xclbin.h). The layout follows /usr/include/xrt/xclbin.h;
 * the XML is the subset xclbin_parser.cpp of XRT 2.13 reads for kernel arguments. */
#include "mt_xclbin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xclbin.h>

enum { N_SECTIONS = 4, CU_BASE = 0x1800000 };

typedef struct {
  uint32_t kind;
  const char *name;
  const void *data;
  size_t size;
} section;

static size_t align8(size_t n) { return (n + 7u) & ~(size_t)7u; }

/* The kernel's metadata: ports, arguments with their AXI-lite offsets, one instance. */
static char *metadata_xml(const mt_xclbin_spec *s, size_t *len) {
  size_t cap = 8192, n = 0;
  char *x = malloc(cap);
  if (!x) return NULL;
  n += (size_t)snprintf(x + n, cap - n,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<project name=\"memtile\"><platform vendor=\"xilinx\" boardid=\"noop\" "
                        "name=\"noop\" featureRomTime=\"0\"><version major=\"1\" minor=\"0\"/>"
                        "<device name=\"fpga0\" fpgaDevice=\"noop\"><core name=\"OCL_REGION_0\" "
                        "target=\"hw\" type=\"clc_region\" clockFreq=\"300MHz\" numComputeUnits=\"1\">"
                        "<kernel name=\"%s\" language=\"c\" vlnv=\"xilinx.com:hls:%s:1.0\" "
                        "preferredWorkGroupSizeMultiple=\"0\" workGroupSize=\"1\" "
                        "interrupt=\"true\" hwControlProtocol=\"ap_ctrl_chain\">"
                        "<port name=\"M_AXI_GMEM0\" mode=\"master\" range=\"0xFFFFFFFFFFFFFFFF\" "
                        "dataWidth=\"32\" portType=\"addressable\" base=\"0x0\"/>"
                        "<port name=\"M_AXI_GMEM1\" mode=\"master\" range=\"0xFFFFFFFFFFFFFFFF\" "
                        "dataWidth=\"32\" portType=\"addressable\" base=\"0x0\"/>"
                        "<port name=\"S_AXI_CONTROL\" mode=\"slave\" range=\"0x1000\" "
                        "dataWidth=\"32\" portType=\"addressable\" base=\"0x0\"/>",
                        s->kernel, s->kernel);
  uint32_t gmem = 0;
  for (uint32_t i = 0; i < s->n_args; i++) {
    const mt_xrt_arg *a = &s->args[i];
    char port[32];
    if (a->global)
      snprintf(port, sizeof port, "M_AXI_GMEM%u", gmem++);
    else
      snprintf(port, sizeof port, "S_AXI_CONTROL");
    n += (size_t)snprintf(x + n, cap - n,
                          "<arg name=\"%s\" addressQualifier=\"%d\" id=\"%u\" port=\"%s\" "
                          "size=\"0x%x\" offset=\"0x%x\" hostOffset=\"0x0\" hostSize=\"0x%x\" "
                          "type=\"%s\"/>",
                          a->name, a->global ? 1 : 0, i, port, a->size, a->offset, a->size,
                          a->type);
  }
  n += (size_t)snprintf(x + n, cap - n,
                        "<instance name=\"%s_1\"><addrRemap base=\"0x%x\" range=\"0x10000\" "
                        "port=\"S_AXI_CONTROL\"/></instance></kernel></core></device></platform>"
                        "</project>\n",
                        s->kernel, CU_BASE);
  if (n >= cap) {
    free(x);
    errno = EOVERFLOW;
    return NULL;
  }
  *len = n + 1;
  return x;
}

int mt_xclbin_write(const char *path, const mt_xclbin_spec *s) {
  struct mem_topology mem;
  memset(&mem, 0, sizeof mem);
  mem.m_count = 1;
  mem.m_mem_data[0].m_type = MEM_DDR4;
  mem.m_mem_data[0].m_used = 1;
  mem.m_mem_data[0].m_size = 1u << 20; /* KB: 1 GB */
  mem.m_mem_data[0].m_base_address = 0x4000000000ull;
  snprintf((char *)mem.m_mem_data[0].m_tag, sizeof mem.m_mem_data[0].m_tag, "bank0");

  struct ip_layout ip;
  memset(&ip, 0, sizeof ip);
  ip.m_count = 1;
  ip.m_ip_data[0].m_type = IP_KERNEL;
  ip.m_ip_data[0].properties = 1u | ((uint32_t)AP_CTRL_CHAIN << IP_CONTROL_SHIFT);
  ip.m_ip_data[0].m_base_address = CU_BASE;
  snprintf((char *)ip.m_ip_data[0].m_name, sizeof ip.m_ip_data[0].m_name, "%s:%s_1", s->kernel,
           s->kernel);

  /* One connection per pointer argument, all to bank 0. */
  uint32_t n_conn = 0;
  for (uint32_t i = 0; i < s->n_args; i++) n_conn += s->args[i].global ? 1u : 0u;
  size_t conn_size = sizeof(int32_t) + (n_conn ? n_conn : 1) * sizeof(struct connection);
  struct connectivity *conn = calloc(1, conn_size);
  size_t xml_len = 0;
  char *xml = metadata_xml(s, &xml_len);
  if (!conn || !xml) {
    free(conn);
    free(xml);
    return -1;
  }
  conn->m_count = (int32_t)n_conn;
  for (uint32_t i = 0, c = 0; i < s->n_args; i++) {
    if (!s->args[i].global) continue;
    conn->m_connection[c].arg_index = (int32_t)i;
    conn->m_connection[c].m_ip_layout_index = 0;
    conn->m_connection[c].mem_data_index = 0;
    c++;
  }
  const section sec[N_SECTIONS] = {
    {MEM_TOPOLOGY, "mem_topology", &mem, sizeof mem},
    {IP_LAYOUT, "ip_layout", &ip, sizeof ip},
    {CONNECTIVITY, "connectivity", conn, conn_size},
    {EMBEDDED_METADATA, "metadata", xml, xml_len},
  };

  size_t hdr = align8(sizeof(struct axlf) + (N_SECTIONS - 1) * sizeof(struct axlf_section_header));
  size_t total = hdr;
  for (int i = 0; i < N_SECTIONS; i++) total += align8(sec[i].size);
  unsigned char *buf = calloc(1, total);
  int rc = -1;
  if (buf) {
    struct axlf *a = (struct axlf *)buf;
    memcpy(a->m_magic, "xclbin2", 8);
    a->m_signature_length = -1;
    memset(a->reserved, 0xFF, sizeof a->reserved);
    memset(a->m_keyBlock, 0xFF, sizeof a->m_keyBlock);
    a->m_header.m_length = total;
    a->m_header.m_versionMajor = 2;
    a->m_header.m_mode = XCLBIN_FLAT;
    snprintf((char *)a->m_header.m_platformVBNV, sizeof a->m_header.m_platformVBNV,
             "xilinx:noop:memtile:1.0");
    memcpy(a->m_header.uuid, s->uuid, 16);
    a->m_header.m_numSections = N_SECTIONS;
    size_t off = hdr;
    for (int i = 0; i < N_SECTIONS; i++) {
      a->m_sections[i].m_sectionKind = sec[i].kind;
      snprintf(a->m_sections[i].m_sectionName, sizeof a->m_sections[i].m_sectionName, "%s",
               sec[i].name);
      a->m_sections[i].m_sectionOffset = off;
      a->m_sections[i].m_sectionSize = sec[i].size;
      memcpy(buf + off, sec[i].data, sec[i].size);
      off += align8(sec[i].size);
    }
    FILE *f = fopen(path, "wb");
    if (f) {
      size_t w = fwrite(buf, 1, total, f);
      rc = (fclose(f) == 0 && w == total) ? 0 : -1;
    }
  }
  free(buf);
  free(conn);
  free(xml);
  return rc;
}
