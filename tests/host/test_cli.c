/* The memtile CLI as a user runs it: argument errors, help, info, and short
 * training runs that must reach stated accuracies and write their logs. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define CLI MT_BUILD_DIR "/san/bin/memtile"
#define DEMO MT_BUILD_DIR "/san/bin/mt-demo"

static char tmpdir[64];
static char out[1 << 16];

/* Runs the CLI with args; stdout and stderr together in `out`; returns the exit status. */
static int run(const char *args) {
  char cmd[1024], path[128];
  snprintf(path, sizeof path, "%s/out.txt", tmpdir);
  snprintf(cmd, sizeof cmd, "timeout 300 %s %s > %s 2>&1", CLI, args, path);
  int st = system(cmd);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
  out[n] = '\0';
  if (f) fclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect(const char *args, int status, const char *text) {
  int st = run(args);
  if (st != status || !strstr(out, text))
    fail_msg("memtile %s: exit %d (want %d), output:\n%s\n(want '%s')", args, st, status, out, text);
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/mt_test_cli_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  return system(cmd);
}

static void help_and_unknown_commands(void **state) {
  (void)state;
  expect("--help", 0, "commands:");
  expect("", 2, "usage: memtile <command>");
  expect("frobnicate", 2, "unknown command 'frobnicate'");
  expect("--version", 0, "memtile 0.");
  static const char *const opts[] = {"--device", "--preset", "--dataset", "--net", "--algo",
                                     "--levels", "--epochs", "--batch", "--lr", "--seed",
                                     "--train-limit", "--test-limit", "--crop", "--log",
                                     "--checkpoint", "--resume", "--momentum", "--important",
                                     "--favourable", "--tasks", "--meta-m", "--max-tiles", "--val",
                                     "--changed-only", "--ssm-compensate", "--ssm-calibrate",
                                     "--importance", "--draws", "--optimizer", "--adam-beta1",
                                     "--adam-beta2", "--adam-eps", "--batchnorm", "--batchnorm-state", "--drift-eval",
                                     "--help"};
  expect("train --help", 0, "usage: memtile train");
  for (size_t k = 0; k < sizeof opts / sizeof *opts; k++)
    if (!strstr(out, opts[k])) fail_msg("train --help does not mention %s", opts[k]);
  expect("info --help", 0, "usage: memtile info");
  expect("--help", 0, "meta-sweep");
}

static void bad_arguments_are_named(void **state) {
  (void)state;
  expect("train --frob", 2, "unknown option '--frob'");
  expect("train --epochs", 2, "--epochs needs a value");
  expect("train --epochs x", 2, "--epochs: 'x' is not an integer in [1, 100000]");
  expect("train --epochs 0", 2, "--epochs: '0' is not an integer in [1, 100000]");
  expect("train --batch -3", 2, "--batch: '-3' is not an integer");
  expect("train --lr -1", 2, "--lr: '-1' is not a number in (0, 100]");
  expect("train --lr abc", 2, "--lr: 'abc' is not a number");
  expect("train --levels 300", 2, "--levels: '300' is not an integer in [2, 256]");
  expect("train --algo magic", 2,
         "--algo: 'magic' is not an algorithm (float, closed-loop, siamese, sgd-pulse, ssm, "
         "conventional, biased, metaplastic)");
  expect("train --val x", 2, "--val: 'x' is not an integer");
  expect("train --changed-only --algo siamese --dataset mnist --net 784-8-10 --train-limit 10 "
         "--test-limit 10", 2, "--changed-only is for closed-loop, not siamese");
  expect("train --ssm-compensate --algo sgd-pulse --preset imprecise --dataset mnist --net 784-8-10 "
         "--train-limit 10 --test-limit 10", 2, "--ssm-compensate is for ssm, not sgd-pulse");
  /* --optimizer and --batchnorm: the option, its value and the algorithm are named */
  expect("train --optimizer rmsprop", 2, "--optimizer: 'rmsprop' is not an optimizer (sgd, adam)");
  expect("train --optimizer adam --algo siamese --dataset mnist --net 784-8-10 --train-limit 10 "
         "--test-limit 10", 2, "--optimizer adam is for float and metaplastic, not siamese");
  expect("train --batchnorm --algo ssm --preset imprecise --dataset mnist --net 784-8-10 "
         "--train-limit 10 --test-limit 10", 2, "--batchnorm is for float and metaplastic, not ssm");
  expect("train --batchnorm --batch 1 --algo float --dataset mnist --net 784-8-10 --train-limit 10 "
         "--test-limit 10", 2, "--batchnorm with --batch 1: BatchNorm needs the statistics of a batch");
  expect("train --adam-beta1 0.8 --algo float --dataset mnist --net 784-8-10 --train-limit 10 "
         "--test-limit 10", 2, "--adam-beta1 is for --optimizer adam, not sgd");
  expect("train --adam-beta2 1", 2, "--adam-beta2: '1' is not a number in [0, 1)");
  expect("train --adam-eps 0", 2, "--adam-eps: '0' is not a number in (0, 1]");
  expect("train --algo float --optimizer adam --lr 0.001 --batchnorm --dataset mnist --net 784-8-10 "
         "--train-limit 64 --test-limit 32 --epochs 1", 0,
         "optimizer adam (beta1 0.9, beta2 0.999, eps 1e-08), batchnorm (shared state)");
  /* --batchnorm-state: its values, and what it needs (BatchNorm, and tasks to keep it per) */
  expect("train --batchnorm-state each", 2,
         "--batchnorm-state: 'each' is not a BatchNorm state (shared, per-task)");
  expect("train --algo float --batchnorm-state per-task --tasks mnist,fashion-mnist --net 784-8-10 "
         "--train-limit 64 --test-limit 32 --epochs 1", 2,
         "--batchnorm-state per-task without --batchnorm: there is no BatchNorm state to keep per task");
  expect("train --algo float --batchnorm --batchnorm-state per-task --dataset mnist --net 784-8-10 "
         "--train-limit 64 --test-limit 32 --epochs 1", 2,
         "--batchnorm-state per-task is for continual learning: it needs --tasks with at least 2 tasks");
  expect("train --algo float --batchnorm --batchnorm-state per-task --tasks mnist,fashion-mnist "
         "--net 784-8-10 --train-limit 64 --test-limit 32 --epochs 1", 0,
         "batchnorm (per-task state), tasks mnist,fashion-mnist");
  expect("train --algo float --dataset mnist --net 784-8-10 --train-limit 10 --test-limit 10 "
         "--val 10", 2, "--val 10: task 1 (mnist) has only 10 training examples");
  expect("train --algo float --dataset mnist --net 784-8-10 --train-limit 64 --test-limit 32 "
         "--val 16 --epochs 1", 0, "validation ");
  /* one fraction in [0, 1], or one per layer: a bad value or count names the option and value */
  expect("train --important -0.1", 2, "--important: '-0.1' is not a fraction in [0, 1], or a comma list");
  expect("train --important 1.5", 2, "--important: '1.5' is not a fraction in [0, 1]");
  expect("train --important 0.2,1.5", 2, "--important: '0.2,1.5' is not a fraction in [0, 1]");
  expect("train --important 0.2,", 2, "--important: '0.2,' is not a fraction");
  expect("train --important 0.2,,0.3", 2, "--important: '0.2,,0.3' is not a fraction");
  expect("train --important nan", 2, "--important: 'nan' is not a fraction");
  expect("train --important 0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1", 2,
         "--important: '0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1' is not a fraction");
  expect("train --algo biased --preset rram-2bit --dataset mnist --important 0.5,0.25,1 --net 784-8-10 "
         "--train-limit 10 --test-limit 10", 2,
         "--important 0.5,0.25,1: 3 fractions for a network of 2 layers");
  expect("train --importance gradient", 2,
         "--importance: 'gradient' is not an importance (saliency, magnitude)");
  expect("train --draws 0", 2, "--draws: '0' is not an integer in [1, 100]");
  expect("train --draws 101", 2, "--draws: '101' is not an integer in [1, 100]");
  expect("train --draws 3 --algo float --dataset mnist --net 784-8-10 --train-limit 10 --test-limit 10", 2,
         "--draws is for conventional and biased (networks trained off the device), not float");
  expect("train --draws 3 --algo conventional --preset rram-2bit --tasks mnist,fashion-mnist "
         "--net 784-8-10 --train-limit 10 --test-limit 10", 2, "--draws 3: for a run of one task");
  expect("train --favourable 0", 2, "--favourable: '0' is not an integer in [1, 256]");
  expect("train --algo biased --favourable 9 --preset rram-2bit --dataset mnist --net 784-8-10 "
         "--train-limit 10 --test-limit 10", 2, "favourable <= 7 levels");
  expect("train --algo biased --resume /nonexistent/x.ck --dataset mnist --net 784-8-10 "
         "--train-limit 10 --test-limit 10", 5, "/nonexistent/x.ck: cannot open");
  expect("characterize --help", 0, "usage: memtile characterize");
  expect("characterize --frob", 2, "unknown option '--frob'");
  expect("characterize --samples", 2, "--samples needs a value");
  expect("characterize --samples 1", 2, "--samples: '1' is not an integer in [2, 1000000]");
  expect("characterize --reads 0", 2, "--reads: '0' is not an integer in [1, 1000]");
  expect("characterize --preset rram-2bit --favourable 8", 2,
         "--favourable: 8 is more than the 7 levels");
  expect("characterize --preset rram-2bit --levels 9", 2, "the level count cannot be changed");
  expect("characterize --preset /nonexistent/p.json", 5, "/nonexistent/p.json");
  expect("characterize --device bogus", 2, "is not a device URI");
  expect("train --momentum 1", 2, "--momentum: '1' is not a number in [0, 1)");
  expect("train --momentum x", 2, "--momentum: 'x' is not a number in [0, 1)");
  expect("train --meta-m -1", 2, "--meta-m: '-1' is not a number in [0, 1e6]");
  expect("train --meta-m x", 2, "--meta-m: 'x' is not a number");
  expect("train --tasks mnist,,fashion-mnist", 2, "--tasks: an empty dataset name in the list");
  expect("train --tasks a,b,c,d,e,f,g,h,i", 2, "--tasks: too many tasks (at most 8)");
  expect("train --tasks mnist --dataset mnist", 2, "--tasks and --dataset exclude each other");
  expect("train --tasks permuted-mnist:9", 2, "'permuted-mnist:9': expected permuted-NAME:K");
  expect("train --tasks mnist,permuted-mnist:8", 2, "K in [1, 7] (at most 8 tasks in all)");
  expect("train --tasks permuted-:2", 2, "'permuted-:2': expected permuted-NAME:K");
  expect("train --tasks permuted-mnist:0", 2, "'permuted-mnist:0': expected permuted-NAME:K");
  /* meta-sweep hands its arguments to scripts/meta_sweep.py (tests/scripts/test_meta_sweep.py) */
  expect("meta-sweep", 2, "the following arguments are required: sweep, --out");
  expect("meta-sweep /nonexistent/s.json --out /tmp/x", 2, "/nonexistent/s.json: cannot read the sweep file");
  expect("train --compensate maybe", 2, "--compensate: 'maybe' is not a compensation mode");
  expect("train --net 784-0-10", 2, "--net:");
  expect("train --net 28x28x1-c5-10", 2, "conv layer must be cKxN (kernel K, N output channels): \"c5\"");
  expect("train --seed -1", 2, "--seed: '-1' is not a non-negative integer");
  expect("info --colour", 2, "unknown or incomplete option '--colour'");
  expect("info --preset no-such-preset", 5, "no preset 'no-such-preset'");
}

static void missing_inputs_are_explained(void **state) {
  (void)state;
  expect("train --preset /nonexistent/p.json --train-limit 10 --test-limit 10 --dataset mnist", 5,
         "/nonexistent/p.json");
  expect("train --dataset /nonexistent/dir", 5, "/nonexistent/dir: no such directory");
  expect("train --dataset nonexistent-name", 2, "unknown dataset 'nonexistent-name'");
  expect("train --dataset mnist --net 100-10 --train-limit 10 --test-limit 10", 2,
         "the network has 100 inputs but the images have 28x28 = 784 pixels");
  expect("train --dataset mnist --net 14x56x1-c5x4-10 --train-limit 10 --test-limit 10", 2,
         "the network takes 14x56x1 maps but the images are 28x28");
  expect("train --dataset mnist --device model://?tiles=2 --train-limit 10 --test-limit 10", 2,
         "the network needs 16 tiles of 128x128 but model://?tiles=2 has 2 (open "
         "model://?tiles=16, or swap tiles through it with --max-tiles 2)");
  /* ... which runs, swapping: the console says what it cost. */
  expect("train --dataset mnist --net 784-8-10 --device 'model://?tiles=2' --max-tiles 2 "
         "--train-limit 16 --test-limit 16 --batch 16 --epochs 1", 0,
         "tile swapping (emulator overhead): ");
  expect("train --max-tiles 0", 2, "--max-tiles: '0' is not an integer in [1, 64]");
  /* usb:// with no FT601 attached (none on a build machine): a clear error, exit status 4
   * (MT_ERR_NODEV; README.md, "Exit status"). */
  expect("train --dataset mnist --device usb://0403:601f --train-limit 10 --test-limit 10", 4,
         "usb://0403:601f: no such USB device attached");
  expect("info --device usb://0403:601f", 4,
         "memtile info: usb://0403:601f: no such USB device attached");
  expect("info --device usb://1/200", 2, "expected usb://VID:PID");
  expect("info --device 'usb://0403:601f?timeout=0'", 2, "unknown parameter 'timeout=0'");
  expect("info --device 'verilator://?link=pcie'", 2, "link=pcie: the only link is usb");
  expect("info --device 'verilator://?link=usb&faults=drop:7'", 2,
         "faults=drop:7: drop:7 is not a probability in [0, 1]");
  expect("info --device 'verilator://?link=usb&faults=lose:0.1'", 2, "unknown fault 'lose'");
  expect("info --device 'verilator://?link=usb&seed=x'", 2, "seed=x is not an unsigned 64-bit");
  expect("info --device 'verilator://?faults=drop:0.1'", 2, "faults needs link=usb");
  expect("info --device bogus", 2, "is not a device URI");
  /* The tools link xrt://: its own errors, not "not part of this build". */
  expect("info --device xrt://0?xclbin=/nonexistent/m.xclbin", 9,
         "xrt://0: xclbin /nonexistent/m.xclbin: No such file or directory");
  expect("info --preset imprecise", 0, "preset imprecise");
  expect("info", 0, "tiles of 128x128");
  expect("info", 0, "backends in this build: model://, verilator://, xrt://N, usb://VID:PID");
}

/* Inputs that exist but are not regular files are refused by type, naming the
 * path: a FIFO must not hang the CLI (timeout: a hang fails), a directory is no
 * "read error"; a network no device can hold is not blamed on a URI. */
static void odd_inputs_blame_the_right_thing(void **state) {
  (void)state;
  char fifo[128], args[512];
  snprintf(fifo, sizeof fifo, "%s/fifo", tmpdir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  snprintf(args, sizeof args, "train --preset %s --dataset mnist --net 784-8-10 --train-limit 10 "
           "--test-limit 10", fifo);
  expect(args, 5, "fifo: is a FIFO, not a regular file");
  snprintf(args, sizeof args, "train --resume %s --dataset mnist --net 784-8-10 --train-limit 10 "
           "--test-limit 10", fifo);
  expect(args, 5, "fifo: is a FIFO, not a regular file");
  snprintf(args, sizeof args, "train --preset %s/ --dataset mnist --net 784-8-10 --train-limit 10 "
           "--test-limit 10", tmpdir);
  expect(args, 5, "is a directory, not a regular file");
  expect("train --dataset mnist --net 784-4096-4096-10 --train-limit 10 --test-limit 10", 2,
         "the network needs 1280 tiles of 128x128; a device has at most 64");
  if (strstr(out, "tiles=")) fail_msg("names a URI the user never typed:\n%s", out);
  char cmd[512], path[160];
  snprintf(path, sizeof path, "%s/demo.txt", tmpdir);
  snprintf(cmd, sizeof cmd, "timeout 60 %s --preset %s > %s 2>&1", DEMO, fifo, path);
  int st = system(cmd);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
  out[n] = '\0';
  if (f) fclose(f);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 5 || !strstr(out, "is a FIFO, not a regular file"))
    fail_msg("mt-demo --preset FIFO: status %d, output:\n%s", st, out);
  /* A dataset whose files exist but hold no IDX data: invalid content (status 9), naming the
   * file, the field and its value. */
  char dir[128];
  snprintf(dir, sizeof dir, "%s/badset", tmpdir);
  snprintf(cmd, sizeof cmd, "mkdir -p %s && for f in train-images-idx3-ubyte train-labels-idx1-ubyte "
           "t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do printf 'not an IDX file' > %s/$f; done",
           dir, dir);
  assert_int_equal(system(cmd), 0);
  snprintf(args, sizeof args, "train --dataset %s --net 784-8-10", dir);
  expect(args, 9, "train-images-idx3-ubyte: bad magic 0x6e6f7420, expected 0x00000803");
}

/* Runs mt-demo with args into `out` (stdout and stderr); returns the exit status. */
static int run_demo(const char *args, char *buf, size_t cap) {
  char cmd[1024], path[160];
  snprintf(path, sizeof path, "%s/demo-run.txt", tmpdir);
  snprintf(cmd, sizeof cmd, "timeout 600 %s %s > %s 2>&1", DEMO, args, path);
  int st = system(cmd);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
  buf[n] = '\0';
  if (f) fclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* mt-demo goes through libmemtile only, so the RTL in Verilator prints what the golden model
 * prints, byte for byte (pulse curve, programming cost, MVM error, every counter). */
static void demo_runs_on_every_backend(void **state) {
  (void)state;
  static char model[1 << 14], rtl[1 << 14];
  int st = run_demo("--device model:// --seed 3", model, sizeof model);
  if (st != 0 || !strstr(model, "Counters after the open-loop run") ||
      !strstr(model, "write-verify") || !strstr(model, "mean |ADC - ideal|"))
    fail_msg("mt-demo on model://: status %d, output:\n%s", st, model);
  st = run_demo("--device verilator:// --seed 3", rtl, sizeof rtl);
  if (st != 0 || strcmp(model, rtl) != 0)
    fail_msg("mt-demo on verilator://: status %d, output:\n%s\nmodel:// printed:\n%s", st, rtl, model);
  /* Another seed gives another device, so the comparison above is not of constants. */
  st = run_demo("--device model:// --seed 4", rtl, sizeof rtl);
  if (st != 0 || !strcmp(model, rtl)) fail_msg("seed 4 printed seed 3's output:\n%s", rtl);
  st = run_demo("--device nosuch://", rtl, sizeof rtl); /* MT_ERR_INVAL: status 2 */
  if (st != 2 || !strstr(rtl, "nosuch://")) fail_msg("mt-demo --device nosuch://: %d\n%s", st, rtl);
}

/* --log and --checkpoint (or --resume) naming one file, also through a symbolic link or
 * "..", or the log's CSV being the checkpoint: refused before anything is written. */
static void log_and_checkpoint_must_differ(void **state) {
  (void)state;
  char args[1024], link[160], sub[160];
  const char *common = "--algo float --dataset mnist --net 784-8-10 --train-limit 10 --test-limit 10";
  snprintf(args, sizeof args, "train %s --log %s/x --checkpoint %s/x", common, tmpdir, tmpdir);
  expect(args, 2, "are the same file");
  snprintf(sub, sizeof sub, "%s/sub", tmpdir);
  assert_int_equal(mkdir(sub, 0700), 0);
  snprintf(args, sizeof args, "train %s --log %s/run.jsonl --checkpoint %s/../run.jsonl", common,
           tmpdir, sub);
  expect(args, 2, "are the same file");
  snprintf(link, sizeof link, "%s/link.ckpt", tmpdir);
  snprintf(args, sizeof args, "%s/target.jsonl", tmpdir);
  FILE *f = fopen(args, "w");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(symlink(args, link), 0);
  snprintf(args, sizeof args, "train %s --log %s/target.jsonl --checkpoint %s", common, tmpdir, link);
  expect(args, 2, "are the same file");
  snprintf(args, sizeof args, "train %s --log %s/y.jsonl --checkpoint %s/y.csv", common, tmpdir,
           tmpdir);
  expect(args, 2, "--log's CSV");
  snprintf(args, sizeof args, "train %s --log %s/z.jsonl --resume %s/z.jsonl", common, tmpdir,
           tmpdir);
  expect(args, 2, "and --resume");
  /* Distinct files still train. */
  snprintf(args, sizeof args, "train %s --log %s/ok.jsonl --checkpoint %s/ok.ckpt", common, tmpdir,
           tmpdir);
  expect(args, 0, "epoch 1");
}

/* characterize on the command line: a table on stdout and the same in JSON. */
static void characterize_writes_table_and_json(void **state) {
  (void)state;
  char args[256], path[128];
  snprintf(path, sizeof path, "%s/char.json", tmpdir);
  snprintf(args, sizeof args, "characterize --preset rram-2bit --samples 64 --out %s", path);
  expect(args, 0, "favourable (5 of 7");
  if (!strstr(out, "level   target_g")) fail_msg("no table header:\n%s", out);
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("%s not written", path);
  char buf[8192];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  assert_non_null(strstr(buf, "\"preset\": \"rram-2bit\""));
  assert_non_null(strstr(buf, "\"levels\": 7"));
  assert_non_null(strstr(buf, "\"sigma_g\": "));
  /* Diware's Config-3: the G10 levels (1 and 5) are the unfavourable ones. */
  assert_non_null(strstr(buf, "\"favourable\": [0, 2, 3, 4, 6]"));
}

/* The number after "key": in the last line of a JSON-lines file holding it. */
static double json_last(const char *path, const char *key) {
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("%s: not written", path);
  char line[4096], pat[64];
  double v = -1;
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  while (fgets(line, sizeof line, f)) {
    char *p = strstr(line, pat);
    if (p) v = strtod(p + strlen(pat), NULL);
  }
  fclose(f);
  return v;
}

static int count_lines(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n;
}

/* Short runs on MNIST (3000 training / 1000 test digits, 784-64-10). The
 * accuracies to beat are below what these runs reach with their fixed seed
 * (float 84.1%, siamese 83.1%, closed-loop 83.8%, metaplastic 82.8% (seeds 2, 3:
 * 82.6%, 82.4%) on rram) with a margin, and far above chance. */
static void training_smoke_runs(void **state) {
  (void)state;
  char args[512], log[128], csv[128];
  const char *common = "--dataset mnist --net 784-64-10 --train-limit 3000 --test-limit 1000 --batch 32";
  static const struct { const char *algo; double min_acc; } runs[] = {
    {"float", 0.80}, {"siamese", 0.78}, {"closed-loop", 0.78}, {"metaplastic", 0.78}};
  for (size_t k = 0; k < sizeof runs / sizeof *runs; k++) {
    snprintf(log, sizeof log, "%s/%s.jsonl", tmpdir, runs[k].algo);
    snprintf(csv, sizeof csv, "%s/%s.csv", tmpdir, runs[k].algo);
    snprintf(args, sizeof args, "train --algo %s %s --epochs 2 --log %s", runs[k].algo, common, log);
    expect(args, 0, "epoch 2");
    double acc = json_last(log, "test_accuracy");
    print_message("%s: test accuracy %.4f (must exceed %.2f)\n", runs[k].algo, acc, runs[k].min_acc);
    assert_true(acc > runs[k].min_acc);
    assert_int_equal(count_lines(log), 2);
    assert_int_equal(count_lines(csv), 3); /* header + 2 epochs */
    double programmed = json_last(log, "cells_programmed");
    if (!strcmp(runs[k].algo, "float")) assert_true(programmed == 0);
    else assert_true(programmed > 0);
  }
  /* Closed-loop reprograms every weight after every step: 50816 weights x 94
   * steps per epoch (3000/32 rounded up), so epoch 2 programs exactly that. */
  snprintf(log, sizeof log, "%s/closed-loop.jsonl", tmpdir);
  assert_true(json_last(log, "cells_programmed") == 50816.0 * 94);
  /* Siamese programs only level changes: far fewer in the same epoch. */
  snprintf(csv, sizeof csv, "%s/siamese.jsonl", tmpdir);
  assert_true(json_last(csv, "cells_programmed") < 0.1 * 50816.0 * 94);
  /* ... and counts the weight updates that needed no programming. */
  assert_true(json_last(csv, "updates_skipped") + json_last(csv, "cells_programmed") >= 50816.0 * 94);
}

/* --slices: Diware's bit-sliced encoding for conventional/biased; every slice
 * of every weight is programmed once per epoch, and bad uses are named. */
static void sliced_training(void **state) {
  (void)state;
  char args[512], log[128];
  const char *common = "--dataset mnist --net 784-32-10 --train-limit 2000 --test-limit 500 --epochs 1 --w-max 1";
  snprintf(log, sizeof log, "%s/sliced.jsonl", tmpdir);
  snprintf(args, sizeof args, "train --algo biased --preset rram-2bit-sliced --slices 4 %s --log %s", common, log);
  expect(args, 0, "on the device after programming");
  double acc = json_last(log, "test_accuracy");
  print_message("biased --slices 4: test accuracy %.4f on the device (must exceed 0.5)\n", acc);
  assert_true(acc > 0.5);
  assert_true(json_last(log, "cells_programmed") == 4.0 * (784 * 32 + 32 * 10));
  snprintf(args, sizeof args, "train --algo siamese --preset rram-2bit-sliced --slices 4 %s", common);
  expect(args, 2, "--slices (bit-sliced weights) is for conventional and biased, not siamese");
  snprintf(args, sizeof args, "train --algo conventional --preset rram --slices 4 %s", common);
  expect(args, 2, "L = 33 levels");
  snprintf(args, sizeof args, "train --algo conventional --preset rram-2bit --slices 9 %s", common);
  expect(args, 2, "--slices: '9' is not an integer in [1, 8]");
}

/* The text of a file (at most sizeof out - 1 bytes) into `out`. */
static const char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("%s: not written", path);
  size_t n = fread(out, 1, sizeof out - 1, f);
  out[n] = '\0';
  fclose(f);
  return out;
}

/* --tasks: one epoch on each of two tasks, and every log line holds the test
 * accuracy of both tasks; the CSV has a column per task. */
static void tasks_log_every_task(void **state) {
  (void)state;
  char args[512], log[128], csv[128];
  snprintf(log, sizeof log, "%s/tasks.jsonl", tmpdir);
  snprintf(csv, sizeof csv, "%s/tasks.csv", tmpdir);
  snprintf(args, sizeof args,
           "train --algo metaplastic --tasks mnist,fashion-mnist --net 784-16-10 --epochs 1 "
           "--train-limit 300 --test-limit 100 --log %s", log);
  expect(args, 0, "task 2/2, test accuracy per task:");
  assert_int_equal(count_lines(log), 2);
  assert_int_equal(count_lines(csv), 3);
  const char *j = slurp(log);
  const char *l2 = strchr(j, '\n') + 1;
  assert_non_null(strstr(j, "\"task\": 1, \"task_name\": \"mnist\", \"task_accuracy\": ["));
  assert_non_null(strstr(l2, "\"task\": 2, \"task_name\": \"fashion-mnist\", \"task_accuracy\": ["));
  /* two accuracies per line, each in [0, 1] */
  for (const char *p = j; (p = strstr(p, "\"task_accuracy\": [")) != NULL;) {
    char *end = NULL;
    double a = strtod(p + 18, &end);
    assert_true(*end == ',');
    double b = strtod(end + 1, &end);
    assert_true(*end == ']');
    assert_true(a >= 0 && a <= 1 && b >= 0 && b <= 1);
    p = end;
  }
  const char *c = slurp(csv);
  assert_non_null(strstr(c, ",wall_s,task,task_name,task_accuracy_1,task_accuracy_2\n"));
  assert_non_null(strstr(c, ",2,fashion-mnist,"));
  /* A task that cannot be opened is named. */
  expect("train --tasks mnist,/nonexistent/dir --train-limit 10 --test-limit 10", 5, "/nonexistent/dir");
}

/* The JSON lines of a log without their wall_s values. */
static void log_without_wall(const char *path, char *buf, size_t n) {
  const char *text = slurp(path);
  size_t len = 0;
  for (const char *p = text; *p && len + 1 < n;) {
    if (strncmp(p, "\"wall_s\": ", 10) == 0) {
      p += 10;
      while (*p && *p != '}') p++;
      continue;
    }
    buf[len++] = *p++;
  }
  buf[len] = '\0';
}

/* --checkpoint/--resume on the command line, for ssm (momentum, gains, rounding
 * generator): 2 epochs straight, and 1 epoch + a resume to 2 appending to the
 * log, give the same log lines (wall_s aside) and one CSV header. */
static void resume_appends_the_same_log(void **state) {
  (void)state;
  char args[1024], full[128], cut[128], ck[128], csv[128];
  static char a[8192], b[8192];
  snprintf(full, sizeof full, "%s/ssm-full.jsonl", tmpdir);
  snprintf(cut, sizeof cut, "%s/ssm-cut.jsonl", tmpdir);
  snprintf(csv, sizeof csv, "%s/ssm-cut.csv", tmpdir);
  snprintf(ck, sizeof ck, "%s/ssm.ckpt", tmpdir);
  const char *common = "train --algo ssm --preset imprecise --w-max 4 --dataset mnist --net 784-16-10 "
                       "--train-limit 200 --test-limit 100";
  snprintf(args, sizeof args, "%s --epochs 2 --log %s", common, full);
  expect(args, 0, "epoch 2");
  snprintf(args, sizeof args, "%s --epochs 1 --checkpoint %s --log %s", common, ck, cut);
  expect(args, 0, "epoch 1");
  snprintf(args, sizeof args, "%s --epochs 2 --resume %s --log %s", common, ck, cut);
  expect(args, 0, "epoch 2");
  log_without_wall(full, a, sizeof a);
  log_without_wall(cut, b, sizeof b);
  assert_int_equal(count_lines(cut), 2);
  assert_string_equal(a, b);
  assert_int_equal(count_lines(csv), 3); /* one header, two epochs */
  snprintf(args, sizeof args, "%s --epochs 2 --momentum 0.5 --resume %s", common, ck);
  expect(args, 9, "was written with momentum 0.9, this run has 0.5");
}

/* The first line of a JSON log without `"key": value, ` of each key (and of wall_s). */
static void log_line(const char *path, char *line, size_t n, const char *const *keys, size_t nkeys) {
  FILE *f = fopen(path, "r");
  if (!f || !fgets(line, (int)n, f)) fail_msg("no log line in %s", path);
  fclose(f);
  for (size_t k = 0; k <= nkeys; k++) {
    char pat[48];
    snprintf(pat, sizeof pat, "\"%s\": ", k < nkeys ? keys[k] : "wall_s");
    char *p = strstr(line, pat);
    if (!p) {
      if (k < nkeys) fail_msg("%s has no %s: %s", path, pat, line);
      continue;
    }
    char *q = p + strlen(pat);
    while (*q && *q != ',' && *q != '}') q++;
    if (*q == ',') q += 2;
    memmove(p, q, strlen(q) + 1);
  }
}

/* --val with biased: every line names the best epoch so far; --draws 3: the last line has three
 * accuracies, their mean and sd, on stdout, in the JSON log and in the CSV. A resume of the
 * finished run with --draws is refused (the draws run at the last epoch). */
static void best_epoch_and_draws(void **state) {
  (void)state;
  char args[1024], log[128], csv[128], ck[128], line[4096];
  snprintf(log, sizeof log, "%s/draws.jsonl", tmpdir);
  snprintf(csv, sizeof csv, "%s/draws.csv", tmpdir);
  snprintf(ck, sizeof ck, "%s/draws.ck", tmpdir);
  const char *base = "train --algo biased --preset rram-2bit --dataset mnist --net 784-8-10 "
                     "--train-limit 300 --test-limit 50 --val 100 --epochs 2 --batch 16 --w-max 1";
  snprintf(args, sizeof args, "%s --draws 3 --log %s --checkpoint %s", base, log, ck);
  expect(args, 0, "3 draws of the result on fresh dies: test mean ");
  if (!strstr(out, "best epoch so far 1: validation ")) fail_msg("no best epoch line:\n%s", out);
  FILE *f = fopen(log, "r");
  assert_non_null(f);
  int lines = 0, draws = 0;
  while (fgets(line, sizeof line, f)) {
    lines++;
    if (!strstr(line, "\"best_epoch\": ") || !strstr(line, "\"best_test_accuracy\": "))
      fail_msg("line %d has no best epoch: %s", lines, line);
    draws += strstr(line, "\"draws\": 3, \"draw_accuracy\": [") != NULL && strstr(line, "\"draw_sd\": ");
  }
  fclose(f);
  assert_int_equal(lines, 2);
  assert_int_equal(draws, 1); /* the last line only */
  f = fopen(csv, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof line, f));
  if (!strstr(line, ",best_epoch,best_val_accuracy,best_test_accuracy,draw_mean,draw_sd,draw_accuracy_1,"
              "draw_accuracy_2,draw_accuracy_3\n"))
    fail_msg("CSV header: %s", line);
  assert_non_null(fgets(line, sizeof line, f));
  if (!strstr(line, ",,,,,\n")) fail_msg("CSV epoch 1 has draw values: %s", line);
  fclose(f);
  snprintf(args, sizeof args, "%s --draws 3 --resume %s", base, ck);
  expect(args, 2, "holds all 2 epochs already, and the draws run at the last epoch");
}

/* The test accuracy of every drift_eval record of a JSON log line, in order; their count. */
static int drift_records(const char *line, double *t, double *acc, int cap) {
  int n = 0;
  const char *p = strstr(line, "\"drift_eval\": [");
  while (p && n < cap && (p = strstr(p, "{\"drift_t\": ")) != NULL) {
    if (sscanf(p, "{\"drift_t\": %lf, \"test_accuracy\": %lf}", &t[n], &acc[n]) != 2) break;
    n++;
    p++;
  }
  return n;
}

/* --drift-eval: bad lists are named; with the ideal preset (no drift, no read noise) every
 * time tests exactly as the last epoch; with a preset that drifts hard, the network decays. */
static void drift_eval(void **state) {
  (void)state;
  const char *base = "train --algo conventional --dataset mnist --net 784-16-10 --train-limit 300 "
                     "--test-limit 100 --epochs 1 --batch 16";
  char args[2048], log[128], csv[128], preset[128], line[8192];
  static const char *const bad[][2] = {
      {"1,x", "--drift-eval 1,x: 'x' is not a time in seconds in [0, 1e18]"},
      {"3600,-1", "--drift-eval 3600,-1: '-1' is not a time in seconds in [0, 1e18]"},
      {"10,5", "--drift-eval 10,5: '5' is not after the time before it (10 s): the times must increase"},
      {"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "more than 16 times"},
      {"nan", "'nan' is not a time in seconds"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    snprintf(args, sizeof args, "%s --drift-eval %s", base, bad[k][0]);
    expect(args, 2, bad[k][1]);
  }
  expect("train --algo float --dataset mnist --net 784-8-10 --train-limit 10 --test-limit 10 "
         "--drift-eval 1", 2, "--drift-eval drifts the network on the device, but float trains it on the host only");

  /* No drift: each time tests as the epoch did. */
  snprintf(log, sizeof log, "%s/drift0.jsonl", tmpdir);
  snprintf(args, sizeof args, "%s --preset ideal --drift-eval 1,3600,86400 --log %s", base, log);
  expect(args, 0, "drifted to 86400 s after programming: test ");
  double t[4], acc[4];
  FILE *f = fopen(log, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  assert_int_equal(drift_records(line, t, acc, 4), 3);
  double epoch_acc = json_last(log, "test_accuracy");
  assert_true(t[0] == 1 && t[1] == 3600 && t[2] == 86400);
  for (int k = 0; k < 3; k++)
    if (acc[k] != epoch_acc) fail_msg("no drift, but %g s tests %g (epoch %g)", t[k], acc[k], epoch_acc);
  assert_true(json_last(log, "drift_epoch") == 1);

  /* With --val the result is the best epoch's network: here the first of 3 (test 34%, the
   * last 32%), programmed anew; with no noise it tests as it did at its epoch. The CSV has the
   * drift columns at its end, empty but on the last line. */
  snprintf(log, sizeof log, "%s/drift-val.jsonl", tmpdir);
  snprintf(csv, sizeof csv, "%s/drift-val.csv", tmpdir);
  snprintf(args, sizeof args, "train --algo conventional --dataset mnist --net 784-16-10 "
           "--train-limit 300 --test-limit 100 --val 100 --epochs 3 --batch 16 --lr 0.7 --seed 4 "
           "--preset ideal --drift-eval 1,3600 --log %s", log);
  expect(args, 0, "drift of epoch 1's network (the best epoch's, programmed anew on the run's die)");
  double best_acc = json_last(log, "best_test_accuracy");
  epoch_acc = json_last(log, "test_accuracy");
  assert_true(json_last(log, "best_epoch") == 1 && json_last(log, "drift_epoch") == 1);
  if (!(best_acc != epoch_acc)) fail_msg("best epoch and last test alike (%g): the test tests nothing", best_acc);
  f = fopen(log, "r");
  assert_non_null(f);
  for (int k = 0; k < 3; k++) assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  assert_int_equal(drift_records(line, t, acc, 4), 2);
  for (int k = 0; k < 2; k++)
    if (acc[k] != best_acc) fail_msg("%g s tests %g, the best epoch %g", t[k], acc[k], best_acc);
  f = fopen(csv, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof line, f));
  if (!strstr(line, ",best_test_accuracy,drift_epoch,drift_t_1,drift_accuracy_1,drift_t_2,drift_accuracy_2\n"))
    fail_msg("CSV header: %s", line);
  assert_non_null(fgets(line, sizeof line, f));
  if (!strstr(line, ",,,,,\n")) fail_msg("CSV epoch 1 has drift values: %s", line);
  assert_non_null(fgets(line, sizeof line, f));
  assert_non_null(fgets(line, sizeof line, f));
  char want[128];
  snprintf(want, sizeof want, ",1,1,%.6g,3600,%.6g\n", best_acc, best_acc);
  if (!strstr(line, want)) fail_msg("CSV epoch 3 lacks '%s': %s", want, line);
  fclose(f);

  /* A device that drifts hard (nu 0.3 +- 0.05): a year later the network has decayed. */
  snprintf(preset, sizeof preset, "%s/drifty.json", tmpdir);
  snprintf(args, sizeof args, "sed 's/\"stuck\": {\"low\": 0.0, \"high\": 0.0}/&, \"drift\": "
           "{\"nu\": 0.3, \"nu_sd\": 0.05}/; s/\"name\": \"ideal\"/\"name\": \"drifty\"/' "
           "%s/presets/ideal.json > %s", MT_SOURCE_DIR, preset);
  assert_int_equal(system(args), 0);
  snprintf(log, sizeof log, "%s/drift1.jsonl", tmpdir);
  /* (this run reaches 70.5% at its epoch, 34.5% an hour and 10% a year after programming) */
  snprintf(args, sizeof args, "train --algo conventional --dataset mnist --net 784-16-10 "
           "--train-limit 1000 --test-limit 200 --epochs 1 --batch 16 --lr 0.1 --preset %s "
           "--drift-eval 0,3.15e7 --log %s", preset, log);
  expect(args, 0, "drifted to 3.15e+07 s after programming: test ");
  f = fopen(log, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  assert_int_equal(drift_records(line, t, acc, 4), 2);
  epoch_acc = json_last(log, "test_accuracy");
  if (!(acc[0] == epoch_acc && acc[1] < epoch_acc - 0.2))
    fail_msg("nu 0.3: epoch %g, at 0 s %g, a year later %g", epoch_acc, acc[0], acc[1]);
  /* a bad drift exponent in a preset is named */
  snprintf(args, sizeof args, "sed -i 's/\"nu\": 0.3/\"nu\": 1.5/' %s", preset);
  assert_int_equal(system(args), 0);
  snprintf(args, sizeof args, "%s --preset %s --drift-eval 1", base, preset);
  expect(args, 9, "device.drift.nu: 1.5 is out of range [0, 1]");
}

/* Every experiment of the README (on fewer examples) on a 1-tile device (--max-tiles 1) logs
 * what it logs on a device that holds the network, apart from the swap fields
 * (docs/tile-swapping.md). */
static void readme_experiments_on_one_tile(void **state) {
  (void)state;
  static const char *const runs[] = {
      "--dataset mnist --net 784-100-10 --algo siamese --levels 16",
      "--dataset mnist --net 784-100-10 --algo closed-loop",
      "--dataset mnist --net 28x28x1-c5x8-p2-c5x16-p2-10 --algo siamese --lr 0.1",
      "--preset imprecise --algo siamese --open-loop",
      "--algo metaplastic --meta-m 3 --tasks mnist,fashion-mnist --net 784-100-10",
      "--preset rram-2bit --dataset mnist --net 784-100-10 --algo biased --important 0.25 --w-max 1",
      "--preset rram-2bit-sliced --slices 4 --dataset fashion-mnist --net 784-100-10 --algo biased "
      "--w-max 1",
      "--dataset mnist --net 784-100-10 --algo sgd-pulse --preset imprecise --lr 0.5 --w-max 4",
      "--dataset mnist --net 784-16-10 --algo ssm --preset imprecise --w-max 4",
      "--dataset mnist --net 784-100-10 --algo conventional",
  };
  static const char *const swap_keys[] = {"swaps", "swap_saves", "swap_transactions", "swap_bytes",
                                          "swap_s"};
  static char a[8192], b[8192];
  char args[1024], logs[2][128];
  for (int k = 0; k < 2; k++) snprintf(logs[k], sizeof logs[k], "%s/readme%d.jsonl", tmpdir, k);
  for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
    snprintf(args, sizeof args, "train %s --train-limit 64 --test-limit 32 --epochs 1 --batch 16 "
             "--device 'model://?tiles=64' --log %s", runs[r], logs[0]);
    expect(args, 0, "epoch 1");
    snprintf(args, sizeof args, "train %s --train-limit 64 --test-limit 32 --epochs 1 --batch 16 "
             "--device 'model://?tiles=1' --max-tiles 1 --log %s", runs[r], logs[1]);
    expect(args, 0, "tile swapping (emulator overhead): ");
    log_line(logs[0], a, sizeof a, NULL, 0);
    log_line(logs[1], b, sizeof b, swap_keys, sizeof swap_keys / sizeof *swap_keys);
    if (strcmp(a, b) != 0) fail_msg("%s on 1 tile logs differently:\n  %s  %s", runs[r], a, b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(help_and_unknown_commands),
    cmocka_unit_test(bad_arguments_are_named),
    cmocka_unit_test(missing_inputs_are_explained),
    cmocka_unit_test(odd_inputs_blame_the_right_thing),
    cmocka_unit_test(demo_runs_on_every_backend),
    cmocka_unit_test(log_and_checkpoint_must_differ),
    cmocka_unit_test(characterize_writes_table_and_json),
    cmocka_unit_test(training_smoke_runs),
    cmocka_unit_test(sliced_training),
    cmocka_unit_test(tasks_log_every_task),
    cmocka_unit_test(resume_appends_the_same_log),
    cmocka_unit_test(best_epoch_and_draws),
    cmocka_unit_test(drift_eval),
    cmocka_unit_test(readme_experiments_on_one_tile),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
