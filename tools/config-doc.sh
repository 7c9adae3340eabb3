#!/usr/bin/env bash
# Rewrites the --help block of docs/configuration.md from the built server, so the document lists
# every parameter with its default, range and live/restart mark as this build has them.
# ConfigurationDocTests fails until this has been run after a parameter changes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dotnet build src/AbilisFast -c Release -v quiet -nologo >/dev/null
help=$(dotnet src/AbilisFast/bin/Release/net10.0/abilisfast.dll --help)
HELP="$help" python3 - docs/configuration.md <<'PY'
import os, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
opening = "This is the output of `abilisfast --help`:\n\n```\n"
start = text.index(opening) + len(opening)
end = text.index("\n```", start - 1)
text = text[:start] + os.environ["HELP"].rstrip("\n") + "\n" + text[end + 1:]
open(path, "w", encoding="utf-8").write(text)
PY
echo "docs/configuration.md: --help block rewritten"
