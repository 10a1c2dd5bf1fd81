"""Judges what an Arches project's settings do to its storage settings, for generator-arches-storage.

Standard library only; runs on Python >= 3.8. Reads one JSON request on stdin and prints one JSON answer as
the last line of stdout. Never writes into the project.

Request:
    {"mode": "ast" | "import",
     "root": "/abs/project", "pkg": "demo_heritage", "style": "STORAGES" | "DEFAULT_FILE_STORAGE",
     "settings": "demo_heritage/settings.py",
     "files": {"demo_heritage/settings.py": "...", "demo_heritage/settings_local.py": "..." | null, ...},
     "block": [first_line, last_line] | null,      # our managed block in files[settings], 1-based, inclusive
     "expect": {"BACKEND": "...", "OPTIONS": {...}} | {"DEFAULT_FILE_STORAGE": "..."} | null}

"ast" mode parses settings.py and every project module it imports (the request's files first, then the
project on disk) and reports each statement that sets STORAGES / DEFAULT_FILE_STORAGE / STATICFILES_STORAGE,
in any form and at any nesting, with whether it runs before or after the block; plus the literal values of
MEDIA_URL and the CORS inputs. "import" mode does the same, then imports a dry copy of the package's settings
(the request's files, written to a temporary directory in front of the package) and reports the effective
values; an import that fails is reported, not raised.
"""
import ast
import importlib
import io
import json
import os
import sys
import tempfile
import traceback
import types

STORAGE_NAMES = ("STORAGES", "DEFAULT_FILE_STORAGE", "STATICFILES_STORAGE")
VALUE_NAMES = ("MEDIA_URL", "PUBLIC_SERVER_ADDRESS", "CSRF_TRUSTED_ORIGINS", "ALLOWED_HOSTS")
UNKNOWN = object()  # a key or name computed at run time
DICT_MUTATORS = ("update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__", "__ior__")
LIST_MUTATORS = ("append", "extend", "insert", "remove", "pop", "clear", "__iadd__")

try:
    _INDEX = ast.Index  # Python 3.8 wraps subscripts in ast.Index
except AttributeError:  # pragma: no cover - removed in 3.12+ (deprecated alias before)
    _INDEX = None



def as_bytes(content):
    """A file's content as the generator sends it: a binary string (one character per byte), else text."""
    if content is None or isinstance(content, bytes):
        return content
    try:
        return content.encode("latin-1")
    except UnicodeEncodeError:
        return content.encode("utf-8")

def _slice(node):
    s = node.slice
    if _INDEX is not None and isinstance(s, _INDEX):
        s = s.value  # pragma: no cover - 3.8 only
    return s


def literal(node):
    """(True, value) when node is a literal, else (False, None)."""
    if node is None:
        return False, None
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def is_namespace_call(node, in_function):
    """globals() anywhere; vars() / locals() at module level, where they are the globals."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args):
        return False
    if node.func.id == "globals":
        return True
    return node.func.id in ("vars", "locals") and not in_function


def is_this_module(node):
    """sys.modules[__name__] (under any name for sys)."""
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "modules"
        and isinstance(_slice(node), ast.Name)
        and _slice(node).id == "__name__"
    )


def ref_path(node, in_function):
    """(name, keys, explicit_global) for a reference to a global and subscripts of it, else None."""
    if isinstance(node, ast.Name):
        return node.id, [], False
    if isinstance(node, ast.Attribute) and is_this_module(node.value):
        return node.attr, [], True
    if isinstance(node, ast.Subscript):
        ok, key = literal(_slice(node))
        key = key if ok else UNKNOWN
        if is_namespace_call(node.value, in_function):
            return (key if isinstance(key, str) else UNKNOWN), [], True
        base = ref_path(node.value, in_function)
        if base is not None:
            return base[0], base[1] + [key], base[2]
    return None


def describe(node):
    try:
        text = ast.unparse(node)  # Python 3.9+
    except Exception:  # pragma: no cover - 3.8
        return type(node).__name__
    return text if len(text) <= 80 else text[:77] + "..."


class Module:
    def __init__(self, rel, tree):
        self.rel = rel
        self.tree = tree
        self.defs = {}
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.defs[stmt.name] = stmt


class Ctx:
    """Where a statement runs: file, phase (before / after the block), nesting, function scope."""

    def __init__(self, module, phase, via=None, nesting=(), function=None, exported=True):
        self.module = module
        self.phase = phase
        self.via = via or []
        self.nesting = tuple(nesting)
        self.function = function  # (global names, local names) inside a function body
        self.exported = exported  # bindings here become names of the settings module

    def child(self, kind=None, **kw):
        c = Ctx(self.module, self.phase, self.via, self.nesting, self.function, self.exported)
        if kind:
            c.nesting = self.nesting + (kind,)
        for k, v in kw.items():
            setattr(c, k, v)
        return c


class Analyzer:
    def __init__(self, req):
        self.root = req.get("root") or ""
        self.pkg = req["pkg"]
        self.style = req.get("style") or "STORAGES"
        self.settings = req["settings"]
        self.files = req.get("files") or {}
        self.block = req.get("block")
        self.findings = []
        self.syntax_errors = []
        self.values = {}
        self.visiting = set()
        self.calls = set()
        self.modules = {}

    # -- files -------------------------------------------------------------------------------------
    def source(self, rel):
        # Bytes, so that Python itself honours a BOM or a PEP 263 coding line, as Django's import would.
        if rel in self.files:
            return as_bytes(self.files[rel])
        path = os.path.join(self.root, rel)
        if self.root and os.path.isfile(path):
            try:
                with io.open(path, "rb") as fh:
                    return fh.read()
            except OSError:
                return None
        return None

    def load(self, rel):
        if rel in self.modules:
            return self.modules[rel]
        text = self.source(rel)
        mod = None
        if text is not None:
            try:
                mod = Module(rel, ast.parse(text, filename=rel))
            except SyntaxError as e:
                self.syntax_errors.append(
                    {"file": rel, "line": e.lineno or 1, "message": e.msg or "invalid syntax"}
                )
            except ValueError as e:  # null bytes
                self.syntax_errors.append({"file": rel, "line": 1, "message": str(e)})
        self.modules[rel] = mod
        return mod

    def resolve(self, importer, module, level):
        """The project file an import names, or None when it is not part of the project."""
        if level:
            parts = importer.split("/")[:-1]
            if level > 1:
                parts = parts[: len(parts) - (level - 1)]
            base = parts
        else:
            base = []
        dotted = base + (module.split(".") if module else [])
        if not dotted:
            return None
        for rel in ("/".join(dotted) + ".py", "/".join(dotted + ["__init__.py"])):
            if rel in self.files and self.files[rel] is not None:
                return rel
            if rel not in self.files and self.root and os.path.isfile(os.path.join(self.root, rel)):
                return rel
        return None

    # -- results -----------------------------------------------------------------------------------
    def where(self, ctx, node):
        return {"file": ctx.module.rel, "line": getattr(node, "lineno", 1)}

    def form_of(self, ctx, form):
        if ctx.nesting:
            return "%s (inside %s)" % (form, " / ".join(ctx.nesting))
        return form

    def finding(self, ctx, node, name, effect, form, key=None, certain=True):
        f = self.where(ctx, node)
        f.update(
            {
                "name": name if isinstance(name, str) else None,
                "effect": effect,
                "form": self.form_of(ctx, form),
                "phase": ctx.phase,
                "certain": certain,
                "via": list(ctx.via),
            }
        )
        if key is not None:
            f["key"] = key if isinstance(key, str) else None
        self.findings.append(f)

    def value(self, ctx, node, name, how, value_node):
        if ctx.function is not None:
            return
        ok, v = literal(value_node) if value_node is not None else (False, None)
        prev = self.values.get(name)
        conditional = bool(ctx.nesting)
        if how in ("aug", "append", "extend", "insert"):
            if prev is not None and prev["literal"] and ok and isinstance(prev["value"], (list, tuple)):
                items = list(prev["value"])
                if how == "insert":
                    items.insert(0, v)
                elif how == "append":
                    items.append(v)
                else:
                    items.extend(v if isinstance(v, (list, tuple)) else [v])
                v = items
            else:
                ok = False
        entry = self.where(ctx, node)
        entry.update({"literal": bool(ok), "value": v if ok else None, "conditional": conditional})
        if ctx.via:
            entry["via"] = list(ctx.via)
        self.values[name] = entry

    # -- what a store or a mutation does --------------------------------------------------------------
    def store(self, ctx, node, name, keys, how, value_node=None, explicit_global=False, form=None):
        """A binding (keys == []) or subscript store/delete of a global."""
        if ctx.function is not None and not explicit_global:
            globals_declared, locals_assigned = ctx.function
            if keys == [] and name not in globals_declared:
                return  # a local variable of the function
            if keys and name in locals_assigned and name not in globals_declared:
                return
        if name is UNKNOWN:
            if ctx.phase == "after":
                self.finding(ctx, node, None, "unknown", form or "a store to a computed global name",
                             certain=False)
            return
        if name in VALUE_NAMES and not keys:
            self.value(ctx, node, name, "del" if how == "del" else ("aug" if how == "aug" else "set"),
                       value_node)
            return
        if name not in STORAGE_NAMES or ctx.phase == "block":
            return
        form = form or self.default_form(name, how, keys)
        if name in ("DEFAULT_FILE_STORAGE", "STATICFILES_STORAGE"):
            if how == "del":
                return
            if self.style == "STORAGES":
                self.finding(ctx, node, name, "coexist", form)
            elif name == "DEFAULT_FILE_STORAGE":
                self.finding(ctx, node, name, "override" if ctx.phase == "after" else "replaced", form)
            return
        # STORAGES
        if self.style != "STORAGES":
            if how != "del":
                self.finding(ctx, node, name, "ignored", form)
            return
        first = keys[0] if keys else None
        if ctx.phase != "after":
            if first is None or first == "default" or first is UNKNOWN:
                self.finding(ctx, node, name, "replaced", form, key=first)
            return
        if first is None:
            if how != "del" and self.keeps_default(value_node, how):
                return
            self.finding(ctx, node, name, "override", form)
        elif first == "default" or first is UNKNOWN:
            self.finding(ctx, node, name, "override", form, key=first)
        elif how == "del" and first == "staticfiles":
            self.finding(ctx, node, name, "override", form, key=first)

    @staticmethod
    def default_form(name, how, keys):
        target = name + "".join("[%r]" % k if isinstance(k, str) else "[...]" for k in keys)
        return {
            "del": "del %s" % target,
            "aug": "augmented assignment to %s" % target,
            "ann": "annotated assignment to %s" % target,
            "import": "import binding %s" % target,
            "bind": "binding of %s" % target,
        }.get(how, "assignment to %s" % target)

    @staticmethod
    def keeps_default(value_node, how):
        """{**STORAGES, "staticfiles": ...} or STORAGES |= {"staticfiles": ...}: "default" survives."""
        if not isinstance(value_node, ast.Dict):
            return False
        spread = False
        for k, v in zip(value_node.keys, value_node.values):
            if k is None:
                spread = spread or (isinstance(v, ast.Name) and v.id == "STORAGES")
                continue
            ok, key = literal(k)
            if not ok or key == "default":
                return False
        return spread or how == "aug"

    def mutate(self, ctx, call, name, keys, method, explicit_global):
        """receiver.method(...) where receiver is a global or a subscript of one."""
        if ctx.function is not None and not explicit_global:
            globals_declared, locals_assigned = ctx.function
            if name in locals_assigned and name not in globals_declared:
                return
        if name in VALUE_NAMES and not keys and method in LIST_MUTATORS:
            arg = call.args[-1] if call.args else None
            self.value(ctx, call, name, method if method in ("append", "extend", "insert") else "other", arg)
            return
        if name != "STORAGES" or method not in DICT_MUTATORS or ctx.phase == "block":
            return
        form = "STORAGES%s.%s(...)" % (
            "".join("[%r]" % k if isinstance(k, str) else "[...]" for k in keys), method)
        if self.style != "STORAGES":
            return
        first = keys[0] if keys else None
        if first is not None:
            if first == "default" or first is UNKNOWN:
                if ctx.phase == "after":
                    self.finding(ctx, call, name, "override", form, key=first)
            return
        if ctx.phase != "after":
            return
        touched = self.keys_of_call(call, method)
        if touched is None or "default" in touched or UNKNOWN in touched:
            self.finding(ctx, call, name, "override", form, key="default")
        elif method in ("pop", "__delitem__") and "staticfiles" in touched:
            self.finding(ctx, call, name, "override", form, key="staticfiles")

    @staticmethod
    def keys_of_call(call, method):
        """The keys a dict method call changes (UNKNOWN for computed ones), or None for "all"."""
        if method in ("popitem", "clear"):
            return None
        if method == "setdefault":
            return set()  # never replaces a key the block set
        keys = set()
        if method == "update" or method == "__ior__":
            for a in call.args:
                if isinstance(a, ast.Dict):
                    for k in a.keys:
                        ok, key = literal(k) if k is not None else (False, None)
                        keys.add(key if ok else UNKNOWN)
                else:
                    ok, v = literal(a)
                    if ok and isinstance(v, dict):
                        keys.update(v.keys())
                    else:
                        keys.add(UNKNOWN)
            for kw in call.keywords:
                keys.add(kw.arg if kw.arg is not None else UNKNOWN)
            return keys
        ok, key = literal(call.args[0]) if call.args else (False, None)
        keys.add(key if ok else UNKNOWN)
        return keys

    # -- walking ---------------------------------------------------------------------------------
    def target(self, ctx, node, how, value_node=None, stmt=None):
        if isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self.target(ctx, elt, "bind" if how != "del" else "del", None, stmt)
            return
        if isinstance(node, ast.Starred):
            self.target(ctx, node.value, how, None, stmt)
            return
        p = ref_path(node, ctx.function is not None)
        if p is None:
            return
        name, keys, explicit = p
        form = None
        if explicit and isinstance(node, ast.Subscript) and not keys:
            form = "%s = ..." % describe(node) if how != "del" else "del %s" % describe(node)
        elif explicit:
            form = "%s = ..." % describe(node)
        self.store(ctx, stmt or node, name, keys, how, value_node, explicit, form)

    def walk(self, stmts, ctx, top=False):
        for stmt in stmts:
            c = ctx
            if top:
                c = ctx.child(phase=self.phase_of(stmt))
            if c.phase == "block":
                continue
            self.statement(stmt, c)

    def phase_of(self, stmt):
        if not self.block:
            return "before"
        first, last = self.block
        end = getattr(stmt, "end_lineno", stmt.lineno)
        if stmt.lineno >= first and end <= last:
            return "block"
        return "after" if stmt.lineno > last else "before"

    def statement(self, s, ctx):
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for d in s.decorator_list:
                self.expr(d, ctx)
            self.store(ctx, s, s.name, [], "bind", None, form="def %s" % s.name)
            return
        if isinstance(s, ast.Assign):
            self.expr(s.value, ctx)
            for t in s.targets:
                self.target(ctx, t, "set", s.value, s)
            return
        if isinstance(s, ast.AugAssign):
            self.expr(s.value, ctx)
            op = {ast.BitOr: "|=", ast.Add: "+="}.get(type(s.op), "op=")
            p = ref_path(s.target, ctx.function is not None)
            if p is not None:
                name, keys, explicit = p
                if name == "STORAGES" and not keys:
                    form = "STORAGES %s ..." % op
                else:
                    form = "augmented assignment (%s) to %s" % (op, describe(s.target))
                self.store(ctx, s, name, keys, "aug", s.value, explicit, form)
            return
        if isinstance(s, ast.AnnAssign):
            if s.value is not None:
                self.expr(s.value, ctx)
                p = ref_path(s.target, ctx.function is not None)
                if p is not None:
                    self.store(ctx, s, p[0], p[1], "ann", s.value, p[2],
                               "annotated assignment %s: ... = ..." % describe(s.target))
            return
        if isinstance(s, ast.Delete):
            for t in s.targets:
                self.target(ctx, t, "del", None, s)
            return
        if isinstance(s, (ast.For, ast.AsyncFor)):
            self.expr(s.iter, ctx)
            self.target(ctx, s.target, "bind", None, s)
            self.walk(s.body, ctx.child("for"))
            self.walk(s.orelse, ctx.child("for/else"))
            return
        if isinstance(s, ast.While):
            self.expr(s.test, ctx)
            self.walk(s.body, ctx.child("while"))
            self.walk(s.orelse, ctx.child("while/else"))
            return
        if isinstance(s, ast.If):
            self.expr(s.test, ctx)
            self.walk(s.body, ctx.child("if"))
            self.walk(s.orelse, ctx.child("else"))
            return
        if isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                self.expr(item.context_expr, ctx)
                if item.optional_vars is not None:
                    self.target(ctx, item.optional_vars, "bind", None, s)
            self.walk(s.body, ctx.child("with"))
            return
        if isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            self.walk(s.body, ctx.child("try"))
            for h in s.handlers:
                if h.name:
                    self.store(ctx, h, h.name, [], "bind", None, form="except ... as %s" % h.name)
                self.walk(h.body, ctx.child("except"))
            self.walk(s.orelse, ctx.child("try/else"))
            self.walk(s.finalbody, ctx.child("finally"))
            return
        if type(s).__name__ == "Match":
            self.expr(s.subject, ctx)
            for case in s.cases:
                self.walk(case.body, ctx.child("match/case"))
            return
        if isinstance(s, ast.Global):
            if ctx.function is not None:
                ctx.function[0].update(s.names)
            return
        if isinstance(s, ast.Import):
            for alias in s.names:
                bound = alias.asname or alias.name.split(".")[0]
                self.store(ctx, s, bound, [], "import", None, form="import %s" % alias.name)
                rel = self.resolve(ctx.module.rel, alias.name, 0)
                if rel:
                    self.follow(rel, s, ctx, exported=False)
            return
        if isinstance(s, ast.ImportFrom):
            rel = self.resolve(ctx.module.rel, s.module or "", s.level or 0)
            star = any(a.name == "*" for a in s.names)
            for alias in s.names:
                if alias.name == "*":
                    continue
                bound = alias.asname or alias.name
                self.store(ctx, s, bound, [], "import", None,
                           form="from %s%s import %s" % ("." * (s.level or 0), s.module or "", alias.name))
            if rel:
                self.follow(rel, s, ctx, exported=star and ctx.exported and ctx.function is None)
            return
        for child in ast.iter_child_nodes(s):
            if isinstance(child, ast.expr):
                self.expr(child, ctx)

    def follow(self, rel, node, ctx, exported):
        """A project module imported here: what it does runs here (its bindings count when star-imported)."""
        if rel == self.settings or rel in self.visiting:
            return  # the settings module itself (a partial, circular import) changes nothing
        mod = self.load(rel)
        if mod is None:
            return
        self.visiting.add(rel)
        try:
            c = Ctx(mod, ctx.phase, ctx.via + ["%s:%d" % (ctx.module.rel, node.lineno)],
                    nesting=(), function=None, exported=exported)
            if not exported:
                # Only mutations of shared objects reach the settings module.
                c.function = (set(), set())
            self.walk(mod.tree.body, c)
        finally:
            self.visiting.discard(rel)

    def expr(self, node, ctx):
        if node is None or isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Call):
            self.call(node, ctx)
        if type(node).__name__ == "NamedExpr":
            self.expr(node.value, ctx)
            self.target(ctx, node.target, "set", node.value, node)
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.expr, ast.keyword, ast.comprehension)):
                self.expr(child, ctx)

    def call(self, call, ctx):
        f = call.func
        in_fn = ctx.function is not None
        if isinstance(f, ast.Attribute):
            if is_namespace_call(f.value, in_fn) and f.attr in DICT_MUTATORS:
                self.namespace_call(call, ctx, describe(f.value))
                return
            if isinstance(f.value, ast.Attribute) and f.value.attr == "__dict__" and is_this_module(f.value.value):
                if f.attr in DICT_MUTATORS:
                    self.namespace_call(call, ctx, "sys.modules[__name__].__dict__")
                return
            p = ref_path(f.value, in_fn)
            if p is not None:
                self.mutate(ctx, call, p[0], p[1], f.attr, p[2])
            return
        if not isinstance(f, ast.Name):
            return
        if f.id in ("setattr", "delattr") and call.args and is_this_module(call.args[0]):
            ok, name = literal(call.args[1]) if len(call.args) > 1 else (False, None)
            how = "set" if f.id == "setattr" else "del"
            value = call.args[2] if f.id == "setattr" and len(call.args) > 2 else None
            self.store(ctx, call, name if ok and isinstance(name, str) else UNKNOWN, [], how, value, True,
                       "%s(sys.modules[__name__], ...)" % f.id)
            return
        if f.id == "exec" and call.args:
            ok, code = literal(call.args[0])
            if ok and isinstance(code, str):
                try:
                    tree = ast.parse(code)
                except SyntaxError:
                    return
                for s in tree.body:
                    ast.increment_lineno(s, call.lineno - 1)
                self.walk(tree.body, ctx.child("exec(...)"))
            elif ctx.phase == "after":
                self.finding(ctx, call, None, "unknown", "exec() of code built at run time", certain=False)
            return
        if ctx.phase == "after" and f.id in ctx.module.defs and ctx.function is None:
            key = (ctx.module.rel, f.id)
            if key in self.calls:
                return
            self.calls.add(key)
            fn = ctx.module.defs[f.id]
            declared = set()
            assigned = set()
            for n in ast.walk(fn):
                if isinstance(n, ast.Global):
                    declared.update(n.names)
                elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                    assigned.add(n.id)
            c = ctx.child("%s() called at line %d" % (f.id, call.lineno), function=(declared, assigned))
            self.walk(fn.body, c)

    def namespace_call(self, call, ctx, receiver):
        method = call.func.attr
        form = "%s.%s(...)" % (receiver, method)
        if method in ("popitem", "clear"):
            if ctx.phase == "after":
                self.finding(ctx, call, "STORAGES", "override", form)
            return
        if method in ("update", "__ior__"):
            for a in call.args:
                if isinstance(a, ast.Dict):
                    for k, v in zip(a.keys, a.values):
                        ok, key = literal(k) if k is not None else (False, None)
                        self.store(ctx, call, key if ok and isinstance(key, str) else UNKNOWN, [], "set", v,
                                   True, form)
                else:
                    ok, v = literal(a)
                    if ok and isinstance(v, dict):
                        for key in v:
                            self.store(ctx, call, key, [], "set", None, True, form)
                    else:
                        self.store(ctx, call, UNKNOWN, [], "set", None, True, form)
            for kw in call.keywords:
                self.store(ctx, call, kw.arg if kw.arg is not None else UNKNOWN, [], "set", kw.value, True,
                           form)
            return
        ok, key = literal(call.args[0]) if call.args else (False, None)
        name = key if ok and isinstance(key, str) else UNKNOWN
        if method == "setdefault" and name == "STORAGES":
            return  # the block defined it: setdefault keeps the block's value
        how = "del" if method in ("pop", "__delitem__") else "set"
        value = call.args[1] if len(call.args) > 1 and how == "set" else None
        self.store(ctx, call, name, [], how, value, True, form)

    # -- entry ---------------------------------------------------------------------------------------
    def run(self):
        mod = self.load(self.settings)
        if mod is not None:
            self.visiting.add(self.settings)
            self.walk(mod.tree.body, Ctx(mod, "before"), top=True)
        return {
            "findings": self.findings,
            "syntaxErrors": self.syntax_errors,
            "values": self.values,
        }


# -- import mode -------------------------------------------------------------------------------------
def plain(value, depth=0):
    """A JSON-safe copy: containers and scalars kept, anything else as its repr."""
    if depth > 8:
        return repr(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    return {"__repr__": repr(value)[:200]}


def import_settings(req):
    root, pkg, settings = req.get("root") or "", req["pkg"], req["settings"]
    expect = req.get("expect")
    out = {}
    tmp = tempfile.mkdtemp(prefix="arches-storage-inspect-")
    saved_stdout, saved_cwd = sys.stdout, os.getcwd()
    try:
        sys.dont_write_bytecode = True
        pkg_dir = os.path.join(tmp, pkg)
        os.makedirs(pkg_dir)
        for rel, content in (req.get("files") or {}).items():
            parts = rel.split("/")
            if content is None or len(parts) != 2 or parts[0] != pkg or not parts[1].endswith(".py"):
                continue
            with io.open(os.path.join(pkg_dir, parts[1]), "wb") as fh:
                fh.write(as_bytes(content))
        # The package itself is a stand-in: its __init__ (celery, apps) is not run, and its modules are looked
        # up in the dry copy first, then in the project.
        package = types.ModuleType(pkg)
        package.__path__ = [pkg_dir] + ([os.path.join(root, pkg)] if root else [])
        package.__package__ = pkg
        sys.modules[pkg] = package
        if root:
            sys.path.insert(0, root)
        os.chdir(tmp)
        sys.stdout = sys.stderr  # prints in settings must not reach our JSON
        name = settings[:-3].replace("/", ".")
        try:
            module = importlib.import_module(name)
        except BaseException as e:  # SystemExit, KeyboardInterrupt included: we report, not raise
            last = traceback.extract_tb(e.__traceback__)
            frame = next((f for f in reversed(last) if f.filename.startswith(tmp) or
                          (root and f.filename.startswith(root))), None)
            where = None
            if frame is not None:
                where = {"file": os.path.relpath(frame.filename, tmp if frame.filename.startswith(tmp) else root),
                         "line": frame.lineno}
            out["importError"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
            if where:
                out["importErrorAt"] = where
            return out
        present = {n: hasattr(module, n) for n in STORAGE_NAMES + VALUE_NAMES}
        eff = {n: plain(getattr(module, n)) for n in STORAGE_NAMES + VALUE_NAMES if present[n]}
        out["effective"] = eff
        out["present"] = present
        if expect:
            if "BACKEND" in expect:
                storages = getattr(module, "STORAGES", None)
                default = storages.get("default") if isinstance(storages, dict) else None
                out["defaultIsBlock"] = (
                    isinstance(default, dict)
                    and default.get("BACKEND") == expect["BACKEND"]
                    and plain(default.get("OPTIONS", {})) == expect.get("OPTIONS", {})
                )
                out["effectiveDefault"] = plain(default)
            else:
                dfs = getattr(module, "DEFAULT_FILE_STORAGE", None)
                out["defaultIsBlock"] = dfs == expect.get("DEFAULT_FILE_STORAGE")
                out["effectiveDefault"] = plain(dfs)
        try:
            import django  # noqa: F401
            from django.conf import Settings
            from django.core.exceptions import ImproperlyConfigured
        except Exception:
            out["django"] = None
        else:
            out["django"] = getattr(django, "__version__", "?")
            try:
                Settings(name)
            except ImproperlyConfigured as e:
                out["djangoError"] = str(e)
            except Exception as e:  # pragma: no cover - Django's own checks rarely raise anything else
                out["djangoError"] = "%s: %s" % (type(e).__name__, e)
        return out
    finally:
        sys.stdout = saved_stdout
        os.chdir(saved_cwd)
        for dirpath, dirnames, filenames in os.walk(tmp, topdown=False):
            for f in filenames:
                try:
                    os.remove(os.path.join(dirpath, f))
                except OSError:
                    pass
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def main():
    req = json.load(sys.stdin)
    result = Analyzer(req).run()
    result["mode"] = "ast"
    result["python"] = "%d.%d.%d" % sys.version_info[:3]
    if req.get("mode") == "import":
        result.update(import_settings(req))
        result["mode"] = "import" if "importError" not in result else "ast"
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
