using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AbilisFast.Server.Tests.Architecture;

/// <summary>
/// The folders of every project under src/ form layers: a folder may name types of its own layer
/// or of a lower one, never of a higher one, and no cycle may appear (also not inside a layer).
/// The layer order below is the one docs/architecture.md draws; the diagram there must list the
/// same folders and edges as the source has.
/// </summary>
public sealed partial class FolderLayerTests(ITestOutputHelper output)
{
    /// <summary>The layers, lowest first, and the folders in each (names as <see cref="FolderGraph"/> gives them).</summary>
    internal static readonly (string Layer, string[] Folders)[] Layers =
    [
        ("Protocol", ["Protocol.Addressing", "Protocol.Commands", "Protocol.Data", "Protocol.Esmtp", "Protocol.Lines", "Protocol.Replies", "Protocol.States"]),
        ("Configuration", ["Server.Configuration"]),
        ("Diagnostics", ["Server.Diagnostics"]),
        ("Resources", ["Server.Access", "Server.Channels", "Server.Mailboxes", "Server.Queue", "Server.Recipients", "Server.Signing", "Server.Spool", "Server.Transport"]),
        ("Runtime", ["Server.Runtime"]),
        ("Mail flow", ["Server.Sessions", "Server.Submission", "Server.Delivery"]),
        ("Console", ["Server.Display", "Server.Metrics", "Server.Admin"]),
        ("Host", ["Server.Service", "Server", "AbilisFast"]),
    ];

    private static string SrcRoot => Path.Combine(ServerProcess.RepositoryRoot(), "src");

    [Fact]
    public void EveryFolderDependsOnlyOnItsOwnOrLowerLayersAndNoCycleAppears()
    {
        FolderGraph graph = FolderGraph.Compute(SrcRoot);
        output.WriteLine($"{graph.Folders.Count} folders, {graph.Edges.Count} edges; layers, top first:");
        for (int i = Layers.Length - 1; i >= 0; i--)
        {
            output.WriteLine($"  {i + 1}. {Layers[i].Layer}: {string.Join(", ", Layers[i].Folders)}");
        }

        foreach ((string from, string to) in graph.SortedEdges())
        {
            output.WriteLine($"  {from} -> {to}");
        }

        IReadOnlyList<string> problems = Check(graph, Layers);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheDiagramInArchitectureMdShowsTheSameLayersFoldersAndEdges()
    {
        FolderGraph graph = FolderGraph.Compute(SrcRoot);
        string doc = File.ReadAllText(Path.Combine(ServerProcess.RepositoryRoot(), "docs", "architecture.md"));
        string hint = "\nThe diagram that matches the source:\n" + Diagram(graph);
        Match block = MermaidBlock().Match(doc);
        Assert.True(block.Success, "docs/architecture.md has no ```mermaid block" + hint);
        (List<(string Layer, List<string> Folders)> layers, SortedSet<string> edges) = ParseDiagram(block.Groups[1].Value);
        Assert.True(
            layers.Select(l => l.Layer).SequenceEqual(Layers.Select(l => l.Layer).Reverse()),
            "layers in the diagram (top first): " + string.Join(", ", layers.Select(l => l.Layer)) + hint);
        foreach ((string layer, List<string> folders) in layers)
        {
            string[] want = Layers.Single(l => l.Layer == layer).Folders;
            Assert.True(want.Order(StringComparer.Ordinal).SequenceEqual(folders.Order(StringComparer.Ordinal)),
                $"layer {layer}: the diagram has {string.Join(", ", folders)}, the test {string.Join(", ", want)}" + hint);
        }

        var actual = new SortedSet<string>(graph.SortedEdges().Select(e => $"{e.From} -> {e.To}"), StringComparer.Ordinal);
        string[] missing = [.. actual.Except(edges)];
        string[] stale = [.. edges.Except(actual)];
        Assert.True(missing.Length == 0 && stale.Length == 0,
            $"edges in the source but not in the diagram: {string.Join("; ", missing)}\n" +
            $"edges in the diagram but not in the source: {string.Join("; ", stale)}" + hint);
    }

    [Fact]
    public void AnEdgeToAHigherLayerIsReportedWithItsFile()
    {
        IReadOnlyList<string> problems = ProblemsOf(
            ("AbilisFast.Server/Configuration/Settings.cs", "namespace A; internal sealed class Settings { InSession? _s; }"),
            ("AbilisFast.Server/Sessions/InSession.cs", "namespace B; internal sealed class InSession { Settings? _s; }"));
        Assert.Equal(2, problems.Count);
        Assert.Equal(
            "Server.Configuration -> Server.Sessions: layer Configuration depends on the higher layer Mail flow in AbilisFast.Server/Configuration/Settings.cs: InSession",
            problems[0]);
        Assert.StartsWith("cycle: Server.Configuration, Server.Sessions: ", problems[1]);
    }

    [Fact]
    public void ACycleInsideOneLayerIsReported()
    {
        string cycle = Assert.Single(ProblemsOf(
            ("AbilisFast.Server/Sessions/InSession.cs", "namespace A; internal sealed class InSession { InternalMail? _m; }"),
            ("AbilisFast.Server/Submission/InternalMail.cs", "namespace B; internal static class InternalMail { static InSession? s; }")));
        Assert.StartsWith("cycle: Server.Sessions, Server.Submission", cycle);
        Assert.Contains("Server.Sessions -> Server.Submission (AbilisFast.Server/Sessions/InSession.cs: InternalMail)", cycle);
    }

    [Fact]
    public void AFolderInNoLayerIsReported()
    {
        Assert.Equal(["folder Server.Telemetry is in no layer: add it to FolderLayerTests.Layers and to docs/architecture.md"],
            ProblemsOf(("AbilisFast.Server/Telemetry/Exporter.cs", "namespace A; internal sealed class Exporter;")));
    }

    [Fact]
    public void OnlyNamesThatStandForATypeCount()
    {
        FolderGraph graph = Graph(
            ("AbilisFast.Server/Spool/SpoolStore.cs", "namespace A.Spool; internal sealed class SpoolStore { private sealed class Hidden; }"),
            ("AbilisFast.Server/Queue/Entry.cs", "namespace B; internal sealed class Entry { public int Size; }"),
            ("AbilisFast.Server/Runtime/Context.cs",
                """
                using A.Spool;
                namespace C;
                // SpoolStore in a comment, Entry too
                /// <summary>A <see cref="SpoolStore"/> in documentation.</summary>
                internal sealed class Context
                {
                    public object? SpoolStore { get; set; }
                    public string Text = "SpoolStore Entry";
                    public void M(Context c, Hidden h)
                    {
                        _ = c.SpoolStore;
                        _ = c?.SpoolStore;
                        var x = new Context { SpoolStore = null };
                        Call(Entry: 1);
                    }
                    static void Call(int Entry) { }
                }
                """),
            ("AbilisFast.Server/Sessions/Session.cs", "namespace D; internal sealed class Session { int N => A.Spool.SpoolStore.Max + nameof(Entry).Length; }"));

        Assert.Equal(["Server.Sessions -> Server.Queue", "Server.Sessions -> Server.Spool"],
            graph.SortedEdges().Select(e => $"{e.From} -> {e.To}"));
    }

    [Fact]
    public void ATypeNameDeclaredInTwoFoldersCountsForNeither()
    {
        FolderGraph graph = Graph(
            ("AbilisFast.Server/Spool/Entry.cs", "namespace A; internal sealed class Entry;"),
            ("AbilisFast.Server/Queue/Entry.cs", "namespace B; internal sealed class Entry;"),
            ("AbilisFast.Server/Sessions/Session.cs", "namespace C; internal sealed class Session { Entry? _e; }"));
        Assert.Empty(graph.Edges);
        Assert.Equal(["Server.Queue", "Server.Spool"], graph.Ambiguous["Entry"]);
    }

    /// <summary>
    /// Every problem of <paramref name="graph"/> against <paramref name="layers"/>: a folder in no
    /// layer, an edge to a higher layer (with the files and the type names that make it), a cycle
    /// (with the edges inside it).
    /// </summary>
    internal static IReadOnlyList<string> Check(FolderGraph graph, (string Layer, string[] Folders)[] layers)
    {
        var layerOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < layers.Length; i++)
        {
            foreach (string folder in layers[i].Folders)
            {
                layerOf.Add(folder, i);
            }
        }

        var problems = new List<string>();
        foreach (string folder in graph.Folders.Where(f => !layerOf.ContainsKey(f)))
        {
            problems.Add($"folder {folder} is in no layer: add it to FolderLayerTests.Layers and to docs/architecture.md");
        }

        foreach ((string from, string to) in graph.SortedEdges())
        {
            if (layerOf.TryGetValue(from, out int a) && layerOf.TryGetValue(to, out int b) && b > a)
            {
                problems.Add($"{from} -> {to}: layer {layers[a].Layer} depends on the higher layer {layers[b].Layer} in "
                    + string.Join(", ", graph.Edges[(from, to)]));
            }
        }

        foreach (IReadOnlyList<string> cycle in graph.Cycles())
        {
            IEnumerable<string> inside = graph.SortedEdges()
                .Where(e => cycle.Contains(e.From) && cycle.Contains(e.To))
                .Select(e => $"{e.From} -> {e.To} ({string.Join(", ", graph.Edges[e])})");
            problems.Add($"cycle: {string.Join(", ", cycle)}: {string.Join("; ", inside)}");
        }

        return problems;
    }

    /// <summary>The mermaid text docs/architecture.md should hold for <paramref name="graph"/>: layers top first, then the edges.</summary>
    internal static string Diagram(FolderGraph graph)
    {
        var text = new StringBuilder("flowchart TB\n");
        for (int i = Layers.Length - 1; i >= 0; i--)
        {
            text.Append($"  subgraph L{i + 1}[\"{Layers[i].Layer}\"]\n");
            foreach (string folder in Layers[i].Folders)
            {
                text.Append($"    {Id(folder)}[\"{folder}\"]\n");
            }

            text.Append("  end\n");
        }

        foreach ((string from, string to) in graph.SortedEdges())
        {
            text.Append($"  {Id(from)} --> {Id(to)}\n");
        }

        return text.ToString();
    }

    private static string Id(string folder) => folder.Replace('.', '_');

    private static (List<(string Layer, List<string> Folders)> Layers, SortedSet<string> Edges) ParseDiagram(string mermaid)
    {
        var layers = new List<(string, List<string>)>();
        var edges = new SortedSet<string>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (string raw in mermaid.Split('\n'))
        {
            string line = raw.Trim();
            Match m;
            if ((m = SubgraphLine().Match(line)).Success)
            {
                current = [];
                layers.Add((m.Groups[1].Value, current));
            }
            else if (line == "end")
            {
                current = null;
            }
            else if ((m = EdgeLine().Match(line)).Success)
            {
                edges.Add($"{m.Groups[1].Value.Replace('_', '.')} -> {m.Groups[2].Value.Replace('_', '.')}");
            }
            else if (current is not null && (m = NodeLine().Match(line)).Success)
            {
                current.Add(m.Groups[1].Value.Replace('_', '.'));
            }
        }

        return (layers, edges);
    }

    /// <summary>What <see cref="Check"/> finds in these files against the project's <see cref="Layers"/>.</summary>
    private static IReadOnlyList<string> ProblemsOf(params (string Path, string Source)[] files) => Check(Graph(files), Layers);

    private static FolderGraph Graph(params (string Path, string Source)[] files) =>
        FolderGraph.Compute([.. files.Select(f => (f.Path, FolderGraph.FolderOf(f.Path),
            CSharpSyntaxTree.ParseText(f.Source, new CSharpParseOptions(LanguageVersion.Preview)).GetCompilationUnitRoot()))]);

    [GeneratedRegex(@"```mermaid\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex MermaidBlock();

    [GeneratedRegex(@"^subgraph\s+\w+\[""(.+)""\]$")]
    private static partial Regex SubgraphLine();

    [GeneratedRegex(@"^(\w+)\s*-->\s*(\w+)$")]
    private static partial Regex EdgeLine();

    [GeneratedRegex(@"^(\w+)\[""[^""]*""\]$")]
    private static partial Regex NodeLine();
}
