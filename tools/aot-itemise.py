#!/usr/bin/env python3
"""Where the bytes of a Native AOT binary go, from the ILC map file (IlcGenerateMapFile=true).

Usage: tools/aot-itemise.py abilisfast.map.xml abilisfast.ilc.rsp
  (both in src/AbilisFast/obj/Release/net10.0/<rid>/native/ after a publish with
  -p:IlcGenerateMapFile=true; tools/aot-size.sh --map runs it)

Prints the map's nodes by kind (compiled code, type descriptors, metadata, frozen objects ...),
the compiled code by assembly, and AbilisFast's own code by namespace (the server's features:
Delivery, Configuration, Sessions, Admin, Spool, Signing ...). Method symbols are mangled as
<assembly>_<namespace>_<type>__<method> with dots made underscores; each is given to the longest
assembly name (from the ILC's reference list) it starts with. The map counts the object file's
nodes, so its total is a little below the size of the linked binary (ELF headers, the runtime's
C++ part and the static libraries are outside it).
"""
import collections
import os
import re
import sys


def main():
    mapfile, rsp = sys.argv[1], sys.argv[2]
    assemblies = set()
    for line in open(rsp):
        line = line.strip()
        if line.endswith(".dll"):
            assemblies.add(os.path.basename(line.split(":", 1)[-1])[:-4])
    prefixes = {a.replace(".", "_") + "_" for a in assemblies}
    prefixes |= {"S_P_CoreLib_", "S_P_Reflection_", "S_P_TypeLoader_", "S_P_StackTraceMetadata_"}
    prefixes = sorted(prefixes, key=len, reverse=True)
    kinds, by_assembly, by_namespace = collections.Counter(), collections.Counter(), collections.Counter()
    node = re.compile(r'<(\w+) Name="([^"]*)" Length="(\d+)"')
    for line in open(mapfile, encoding="utf-8", errors="replace"):
        m = node.search(line)
        if not m:
            continue
        kind, name, length = m.group(1), m.group(2), int(m.group(3))
        kinds[kind] += length
        if kind != "MethodCode":
            continue
        for p in prefixes:
            if name.startswith(p):
                assembly = p[:-1]
                by_assembly[assembly] += length
                if assembly.startswith("AbilisFast"):
                    parts = name[len(p):].split("_")
                    by_namespace["_".join(parts[:3]).replace("_", ".")] += length
                break
        else:
            by_assembly["(shared generic code, stubs)"] += length
    print(f"map nodes: {sum(kinds.values()):,} bytes")
    print("by kind:")
    for k, v in kinds.most_common(10):
        print(f"  {v:>10,}  {k}")
    print("compiled code by assembly:")
    for k, v in by_assembly.most_common(25):
        print(f"  {v:>10,}  {k.replace('_', '.')}")
    print("AbilisFast's own code by namespace:")
    for k, v in by_namespace.most_common(25):
        print(f"  {v:>10,}  {k}")


if __name__ == "__main__":
    main()
