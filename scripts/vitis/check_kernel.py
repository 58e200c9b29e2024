#!/usr/bin/env python3
"""Static check of the HLS kernel sources for what Vitis HLS refuses to synthesize (run by
`make check-kernel`, part of `make lint` and of `make test`):

  * the sources compile with gcc -D__SYNTHESIS__ (the tool's view of #ifdefs), warnings as errors;
  * no dynamic memory and no library calls: every call goes to a function defined in the
    sources, except memcpy/memset (struct copies, which Vitis HLS synthesizes);
  * no recursion: the call graph gcc writes (-fcallgraph-info) has no cycle;
  * no function pointers: no indirect call in that graph;
  * no variable-length arrays or alloca: every frame has a static size (-fstack-usage);
  * no unbounded loops: no `for` without a condition, no loop on a constant-true condition, no
    goto, and every `while`/`do` loop declares its bound with `#pragma HLS LOOP_TRIPCOUNT`.

Usage: check_kernel.py [-I DIR]... [-D DEF]... FILE.c...   (exit 1 and one line per finding)
"""
import os
import re
import subprocess
import sys
import tempfile

ALLOWED_EXTERNAL = {"memcpy", "memset"}


def strip_comments(src):
    """The source with comments and string/char literals blanked, line structure kept."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(c + " " * (min(j, n - 1) - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching(src, i, open_c, close_c):
    """Index just past the bracket matching the one at src[i]."""
    depth = 0
    for j in range(i, len(src)):
        if src[j] == open_c:
            depth += 1
        elif src[j] == close_c:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(src)


def loop_body(src, j):
    """(start, end) of the statement or block that starts at or after src[j]."""
    k = j
    while k < len(src) and src[k].isspace():
        k += 1
    if k < len(src) and src[k] == "{":
        return k, matching(src, k, "{", "}")
    end = src.find(";", k)
    return k, (len(src) if end < 0 else end + 1)


def const_true(cond):
    c = cond.strip()
    while c.startswith("(") and c.endswith(")"):
        c = c[1:-1].strip()
    return c in ("true", "TRUE") or re.fullmatch(r"0x[0-9a-fA-F]*[1-9a-fA-F][0-9a-fA-F]*[uUlL]*|"
                                                r"[1-9][0-9]*[uUlL]*", c) is not None


def check_loops(path, text):
    src = strip_comments(text)
    problems = []

    def where(i):
        return "%s:%d" % (path, src.count("\n", 0, i) + 1)

    for m in re.finditer(r"\b(for|while|do|goto)\b", src):
        kw, i = m.group(1), m.start()
        if kw == "goto":
            problems.append("%s: goto (loops must be structured and bounded)" % where(i))
            continue
        if kw == "do":
            b0, b1 = loop_body(src, m.end())
            tail = re.match(r"\s*while\s*\(", src[b1:])
            if not tail:
                continue
            c0 = b1 + tail.end() - 1
            cond = src[c0 + 1:matching(src, c0, "(", ")") - 1]
            body = src[b0:b1]
        else:
            p = src.find("(", m.end())
            if p < 0 or src[m.end():p].strip():
                continue
            q = matching(src, p, "(", ")")
            header = src[p + 1:q - 1]
            if kw == "while":
                # The while of a do-while was handled with its do.
                prev = src[:i].rstrip()
                if prev.endswith("}"):
                    k = len(prev) - 1
                    depth = 0
                    while k >= 0:
                        depth += {"}": 1, "{": -1}.get(prev[k], 0)
                        if depth == 0:
                            break
                        k -= 1
                    if re.search(r"\bdo\s*$", prev[:k]):
                        continue
                cond = header
            else:
                parts = header.split(";")
                if len(parts) != 3:
                    continue
                cond = parts[1]
                if not cond.strip():
                    problems.append("%s: for loop without a condition (unbounded)" % where(i))
                    continue
            b0, b1 = loop_body(src, q)
            body = src[b0:b1]
        if const_true(cond):
            problems.append("%s: %s loop on the constant condition '%s' (unbounded)"
                            % (where(i), kw, cond.strip()))
        elif kw in ("while", "do") and not re.search(r"#\s*pragma\s+HLS\s+LOOP_TRIPCOUNT", body,
                                                     re.I):
            problems.append("%s: %s loop without #pragma HLS LOOP_TRIPCOUNT (its bound)"
                            % (where(i), kw))
    return problems


def parse_ci(path):
    """Nodes {title: (name, defined)} and edges [(source, target, location)] of a .ci file."""
    nodes, edges = {}, []
    with open(path) as f:
        for line in f:
            m = re.match(r'node: \{ title: "([^"]+)" label: "([^"\\]+)', line)
            if m:
                nodes[m.group(1)] = (m.group(2), "shape : ellipse" not in line)
                continue
            m = re.match(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)" label: "([^"]+)"',
                         line)
            if m:
                edges.append(m.groups())
    return nodes, edges


def check_calls(files, cflags, tmp):
    problems, nodes, edges = [], {}, []
    for k, f in enumerate(files):
        obj = os.path.join(tmp, "%d.o" % k)
        cmd = ["gcc", "-std=c11", "-O0", "-D__SYNTHESIS__", "-Wall", "-Wextra", "-Werror",
               "-Wno-unknown-pragmas", "-Wvla", "-fcallgraph-info", "-fstack-usage"] + cflags + \
              ["-c", f, "-o", obj]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            problems.append("%s: does not compile with -D__SYNTHESIS__:\n%s" % (f, r.stderr.strip()))
            continue
        n, e = parse_ci(os.path.join(tmp, "%d.ci" % k))
        for t, v in n.items():
            if v[1] or t not in nodes:
                nodes[t] = v
        edges += e
        with open(os.path.join(tmp, "%d.su" % k)) as su:
            for line in su:
                loc, _, kind = line.rstrip("\n").split("\t")
                # "dynamic,bounded" is a frame that pushes call arguments (more than six of
                # them, at -O0); an unbounded dynamic frame is a VLA or alloca.
                if "dynamic" in kind and "bounded" not in kind:
                    problems.append("%s: frame of dynamic size (variable-length array or alloca)"
                                    % loc)
    defined = {t for t, (_, d) in nodes.items() if d}
    by_name = {t: t for t in defined if ":" not in t}

    def resolve(t):
        return t if t in defined else by_name.get(t)

    graph = {t: set() for t in defined}
    for src, dst, loc in edges:
        if dst == "__indirect_call":
            problems.append("%s: indirect call (function pointer) in %s" % (loc, src))
            continue
        r = resolve(dst)
        if r is None:
            if dst not in ALLOWED_EXTERNAL:
                problems.append("%s: call of %s, which is not part of the kernel (dynamic memory "
                                "or a library/OS call)" % (loc, dst))
            continue
        if src in graph:
            graph[src].add(r)
    # Recursion: a cycle in the call graph (iterative DFS, colours 0/1/2).
    colour = {t: 0 for t in graph}
    for root in sorted(graph):
        if colour[root]:
            continue
        stack = [(root, iter(sorted(graph[root])))]
        path = [root]
        colour[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(nxt) == 1:
                cyc = path[path.index(nxt):] + [nxt]
                problems.append("recursion: %s" % " -> ".join(c.split(":")[-1] for c in cyc))
            elif colour.get(nxt) == 0:
                colour[nxt] = 1
                stack.append((nxt, iter(sorted(graph[nxt]))))
                path.append(nxt)
    return problems


def main(argv):
    cflags, files, i = [], [], 0
    while i < len(argv):
        a = argv[i]
        if a in ("-I", "-D") and i + 1 < len(argv):
            cflags.append(a + argv[i + 1])
            i += 2
            continue
        if a.startswith(("-I", "-D")):
            cflags.append(a)
        else:
            files.append(a)
        i += 1
    if not files:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    problems = []
    for f in files:
        with open(f) as fh:
            problems += check_loops(f, fh.read())
    with tempfile.TemporaryDirectory() as tmp:
        problems += check_calls(files, cflags, tmp)
    for p in problems:
        print("check_kernel: " + p)
    if not problems:
        print("check_kernel: %d files: no dynamic memory, recursion, function pointers, "
              "variable-length arrays or unbounded loops" % len(files))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
