/*
 * icount_plugin.c - a QEMU TCG plugin (API version 1, QEMU 7.2) that counts
 * guest instructions exactly on targets whose counters QEMU does not model
 * (Cortex-M: DWT CYCCNT reads 0).  Built with the host gcc; Debian ships no
 * qemu-plugin.h, so the few declarations it needs are written out below
 * (they match QEMU 7.2's include/qemu/qemu-plugin.h).
 *
 *   qemu-system-arm ... -plugin libicount.so,out=EVENTS -kernel bench.elf
 *
 * Every translation block adds its instruction count to one counter when it
 * starts (an inline add, no callback).  The guest marks points of interest
 * by calling functions named bench_probe_<name> (tests/bench/bench_target.c
 * with -DBENCH_PROBES); whenever one is entered the plugin writes a line
 * "<name> <count>" to EVENTS.  The count then includes the whole block of
 * the probe itself, a constant that cancels out of differences between two
 * probes (the guest calibrates with back-to-back probes).
 *
 * Masked stretches (tests/bench/mask_target.c with -DBENCH_PROBES): the
 * probes mask_on and mask_off, entered right after the heap lock masks
 * interrupts and right before it unmasks them, are not written out (there
 * are millions); the plugin keeps the longest on-to-off distance since the
 * last mask_take, and mask_take writes "mask_take <longest>" and starts
 * over.  mask_reset starts over without a line.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- from QEMU 7.2 include/qemu/qemu-plugin.h (API version 1) ---------------- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only passed through */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *insn);
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv);
/* ------------------------------------------------------------------------------------ */

static uint64_t insns; /* one vCPU: the boards here have one */
static FILE *out;

#define PROBE_PREFIX "bench_probe_"
#define MAX_PROBES 16
static char probe_names[MAX_PROBES][32];
static unsigned nprobes;

static uint64_t mask_on_at, mask_longest;

static void on_probe(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    const char *name = udata;
    if (!strcmp(name, "mask_on")) {
        mask_on_at = insns;
    } else if (!strcmp(name, "mask_off")) {
        if (insns - mask_on_at > mask_longest)
            mask_longest = insns - mask_on_at;
    } else if (!strcmp(name, "mask_reset")) {
        mask_longest = 0;
    } else if (!strcmp(name, "mask_take")) {
        fprintf(out, "mask_take %" PRIu64 "\n", mask_longest);
        mask_longest = 0;
    } else {
        fprintf(out, "%s %" PRIu64 "\n", name, insns);
    }
}

static const char *probe_name(const char *sym)
{
    for (unsigned i = 0; i < nprobes; i++)
        if (!strcmp(probe_names[i], sym))
            return probe_names[i];
    if (nprobes == MAX_PROBES || strlen(sym) >= sizeof probe_names[0])
        return NULL;
    strcpy(probe_names[nprobes], sym);
    return probe_names[nprobes++];
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns, n);
    const char *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        const char *sym = qemu_plugin_insn_symbol(insn);
        /* A probe is entered where its symbol starts: the block's first
         * instruction, or the first one after another symbol's. */
        if (sym && sym != prev && !strncmp(sym, PROBE_PREFIX, strlen(PROBE_PREFIX)) &&
            (prev == NULL || strcmp(prev, sym))) {
            const char *name = probe_name(sym + strlen(PROBE_PREFIX));
            if (name)
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_probe, QEMU_PLUGIN_CB_NO_REGS, (void *)name);
        }
        prev = sym ? sym : "";
    }
}

static void on_exit_cb(qemu_plugin_id_t id, void *udata)
{
    (void)id, (void)udata;
    fprintf(out, "total %" PRIu64 "\n", insns);
    fflush(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    const char *path = NULL;
    for (int i = 0; i < argc; i++)
        if (!strncmp(argv[i], "out=", 4))
            path = argv[i] + 4;
    if (!path) {
        fprintf(stderr, "icount_plugin: needs out=FILE\n");
        return -1;
    }
    out = fopen(path, "w");
    if (!out) {
        perror(path);
        return -1;
    }
    setvbuf(out, NULL, _IOFBF, 1 << 20);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
