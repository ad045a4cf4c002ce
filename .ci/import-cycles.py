"""Checks src/ for import cycles between files and for internal imports through the crate
root's re-exports (issue "One wing per concern"). Reads `use crate::…`/`use super::…` items
and `crate::…`/`super::…` paths in code (comments and test modules are skipped), resolves each
to the file that defines the module, and prints every cycle. Exit status 1 if any is found.

    python3 .ci/import-cycles.py [src]
"""
import os
import re
import sys


def module_files(root):
    files = {}
    for d, _, names in os.walk(root):
        for name in names:
            if name.endswith('.rs') and not name.endswith('_tests.rs'):
                path = os.path.join(d, name)
                rel = os.path.relpath(path, root)[:-3]
                mod = rel[: -len('/mod')] if rel.endswith('/mod') else rel
                files['' if mod == 'lib' else mod.replace('/', '::')] = path
    return files


def code_of(path):
    text = open(path).read()
    cut = text.find('#[cfg(test)]\nmod tests {')
    text = text if cut < 0 else text[:cut]
    return '\n'.join(line for line in text.split('\n') if not line.strip().startswith('//'))


def used_paths(code):
    """Each `a::b::c` named by a use item (braces expanded) or written in code."""
    for use in re.findall(r'\buse\s+([^;]+);', code):
        yield from expand(use.replace('\n', ' ').strip())
    yield from re.findall(r'\b((?:crate|super)(?:::\w+)+)', code)


def expand(use):
    m = re.match(r'^(.*?)::\{(.*)\}$', use)
    if not m:
        yield use.split(' as ')[0].strip()
        return
    head, inner = m.groups()
    depth, part = 0, ''
    for ch in inner + ',':
        if ch == ',' and depth == 0:
            if part.strip():
                yield from expand(head + '::' + part.strip())
            part = ''
            continue
        depth += ch == '{'
        depth -= ch == '}'
        part += ch


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else 'src'
    files = module_files(root)
    reexported = set()
    for names in re.findall(r'pub use [\w:]+::\{?([\w, ]+)\}?;', open(files['']).read()):
        reexported.update(n.strip() for n in names.split(','))
    edges, problems = {m: set() for m in files}, []
    for mod, path in files.items():
        here = mod.split('::') if mod else []
        for used in used_paths(code_of(path)):
            parts = [p for p in used.split('::') if p and p != 'self']
            if not parts or parts[0] not in ('crate', 'super'):
                continue
            base = [] if parts[0] == 'crate' else here[:-1]
            parts = base + parts[1:]
            if mod and used.startswith('crate::') and len(parts) == 1 and parts[0] in reexported:
                problems.append(f'{path}: imports {parts[0]} through the crate root')
            for n in range(len(parts), 0, -1):
                target = '::'.join(parts[:n])
                if target in files:
                    if target not in (mod, ''):
                        edges[mod].add(target)
                    break
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                problems.append('cycle: ' + ' -> '.join(stack[stack.index(n):] + [n]))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(files):
        if m not in state:
            visit(m)
    for p in problems:
        print(p)
    print(f'import-cycles: {len(files)} files, {sum(map(len, edges.values()))} imports, {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
