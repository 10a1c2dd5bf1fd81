"""Runs a command on a pseudo-terminal and prints {code, out, pending} as JSON.

Without --script it presses Ctrl-C at the first prompt ("?"). With --script JSON, a list of [pattern, keys]
pairs: it waits until the regular expression `pattern` matches the output after the previous match, then types
`keys` (e.g. "\r" for Enter, "\x1b[B" for the down arrow), in order; then it reads until the command exits.
`pending` is the first pattern that never showed up (the command is killed then), or null.
"""
import json, os, pty, re, select, signal, sys, time

argv = sys.argv[1:]
script = None
if argv and argv[0] == '--script':
    script = [(re.compile(p), k) for p, k in json.loads(argv[1])]
    argv = argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b''
deadline = time.time() + 30
sent = False
seen = 0
step = 0
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if script is None:
        if not sent and b'?' in out:
            time.sleep(0.3)
            os.write(fd, b'\x03')
            sent = True
        continue
    while step < len(script):
        text = out.decode('utf8', 'replace')
        m = script[step][0].search(text, seen)
        if not m:
            break
        seen = m.end()
        time.sleep(0.2)
        os.write(fd, script[step][1].encode('utf8'))
        step += 1
pending = None
if script is not None and step < len(script):
    pending = script[step][0].pattern
    os.kill(pid, signal.SIGKILL)
elif time.time() >= deadline:
    os.kill(pid, signal.SIGKILL)
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
print(json.dumps({"code": code, "out": out.decode('utf8', 'replace'), "pending": pending}))
