using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AbilisFast.Server.Tests.Architecture;

/// <summary>
/// The dependency graph between the folders of every project under src/, read from the source
/// text with Roslyn's syntax API (no compilation, no semantic model).
/// </summary>
/// <remarks>
/// A folder is a project's first-level folder, named <c>Project.Folder</c> (<c>Server.Sessions</c>);
/// the files directly in a project form a folder of their own, named after the project
/// (<c>Server</c>, <c>AbilisFast</c>); subfolders belong to their first-level folder. The project's
/// short name is its folder name without the <c>AbilisFast.</c> prefix.
/// There is an edge A -> B when a file in A names a type declared in B. A type counts when it is
/// declared (class, struct, record, interface, enum, delegate; nested too) without <c>private</c>
/// or <c>file</c>; a type name declared in two folders counts for neither. A name counts where it
/// stands as a name: not in comments or strings, not as a namespace, not as the member after a dot
/// of a value (<c>context.Spool</c>), not as a named argument or an initialised member
/// (<c>new X { Spool = s }</c>).
/// </remarks>
internal sealed class FolderGraph
{
    private FolderGraph(
        IReadOnlyList<string> folders,
        IReadOnlyDictionary<(string From, string To), IReadOnlyList<string>> edges,
        IReadOnlyDictionary<string, IReadOnlyList<string>> ambiguous)
    {
        Folders = folders;
        Edges = edges;
        Ambiguous = ambiguous;
    }

    /// <summary>Every folder that holds a source file, sorted.</summary>
    public IReadOnlyList<string> Folders { get; }

    /// <summary>Each edge with its evidence: "file: Type" (file relative to src/), sorted.</summary>
    public IReadOnlyDictionary<(string From, string To), IReadOnlyList<string>> Edges { get; }

    /// <summary>Type names declared in more than one folder (they count for none), with the folders.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Ambiguous { get; }

    /// <summary>The folder a source file belongs to (path relative to src/, '/' separated).</summary>
    public static string FolderOf(string relativePath)
    {
        string[] parts = relativePath.Replace('\\', '/').Split('/');
        string project = parts[0].StartsWith("AbilisFast.", StringComparison.Ordinal) ? parts[0]["AbilisFast.".Length..] : parts[0];
        return parts.Length <= 2 ? project : project + "." + parts[1];
    }

    /// <summary>Reads every .cs file of every project under <paramref name="srcRoot"/> (bin/ and obj/ left out).</summary>
    public static FolderGraph Compute(string srcRoot)
    {
        var files = new List<(string Relative, string Folder, CompilationUnitSyntax Root)>();
        foreach (string project in Directory.GetDirectories(srcRoot).Order(StringComparer.Ordinal))
        {
            if (Directory.GetFiles(project, "*.csproj").Length == 0)
            {
                continue;
            }

            foreach (string path in Directory.EnumerateFiles(project, "*.cs", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(srcRoot, path).Replace('\\', '/');
                string inProject = relative[(relative.IndexOf('/') + 1)..];
                if (inProject.StartsWith("bin/", StringComparison.Ordinal) || inProject.StartsWith("obj/", StringComparison.Ordinal))
                {
                    continue;
                }

                SyntaxTree tree = CSharpSyntaxTree.ParseText(
                    File.ReadAllText(path),
                    new CSharpParseOptions(LanguageVersion.Preview, DocumentationMode.None),
                    path);
                files.Add((relative, FolderOf(relative), tree.GetCompilationUnitRoot()));
            }
        }

        return Compute(files);
    }

    /// <summary>The graph of already parsed files (relative path, folder, syntax root).</summary>
    public static FolderGraph Compute(IReadOnlyList<(string Relative, string Folder, CompilationUnitSyntax Root)> files)
    {
        var declaredIn = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var namespaceSegments = new HashSet<string>(StringComparer.Ordinal) { "global", "System" };
        foreach ((_, string folder, CompilationUnitSyntax root) in files)
        {
            foreach (SyntaxNode node in root.DescendantNodes())
            {
                switch (node)
                {
                    case BaseNamespaceDeclarationSyntax ns:
                        foreach (IdentifierNameSyntax segment in ns.Name.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>())
                        {
                            namespaceSegments.Add(segment.Identifier.ValueText);
                        }

                        break;
                    case BaseTypeDeclarationSyntax type when Counts(type.Modifiers):
                        Declare(declaredIn, type.Identifier.ValueText, folder);
                        break;
                    case DelegateDeclarationSyntax type when Counts(type.Modifiers):
                        Declare(declaredIn, type.Identifier.ValueText, folder);
                        break;
                }
            }
        }

        var owner = declaredIn.Where(p => p.Value.Count == 1).ToDictionary(p => p.Key, p => p.Value.Min!, StringComparer.Ordinal);
        var ambiguous = declaredIn.Where(p => p.Value.Count > 1)
            .ToDictionary(p => p.Key, p => (IReadOnlyList<string>)[.. p.Value], StringComparer.Ordinal);
        var typeLike = new HashSet<string>(declaredIn.Keys, StringComparer.Ordinal);
        typeLike.UnionWith(namespaceSegments);

        var evidence = new Dictionary<(string, string), SortedSet<string>>();
        foreach ((string relative, string folder, CompilationUnitSyntax root) in files)
        {
            foreach (SimpleNameSyntax name in root.DescendantNodes().OfType<SimpleNameSyntax>())
            {
                string text = name.Identifier.ValueText;
                if (!owner.TryGetValue(text, out string? target) || target == folder || !NamesAType(name, typeLike))
                {
                    continue;
                }

                if (!evidence.TryGetValue((folder, target), out SortedSet<string>? list))
                {
                    evidence[(folder, target)] = list = new SortedSet<string>(StringComparer.Ordinal);
                }

                list.Add($"{relative}: {text}");
            }
        }

        string[] folders = [.. files.Select(f => f.Folder).Distinct().Order(StringComparer.Ordinal)];
        return new FolderGraph(
            folders,
            evidence.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)[.. p.Value]),
            ambiguous);
    }

    /// <summary>The edges in a stable order, as "A -> B".</summary>
    public IEnumerable<(string From, string To)> SortedEdges() =>
        Edges.Keys.OrderBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal);

    /// <summary>Every cycle's folders, as the strongly connected components of more than one folder (Tarjan).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var result = new List<IReadOnlyList<string>>();
        int next = 0;

        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach ((string _, string w) in SortedEdges().Where(e => e.From == v))
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                {
                    low[v] = Math.Min(low[v], index[w]);
                }
            }

            if (low[v] == index[v])
            {
                var component = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    onStack.Remove(w);
                    component.Add(w);
                }
                while (w != v);
                if (component.Count > 1)
                {
                    component.Sort(StringComparer.Ordinal);
                    result.Add(component);
                }
            }
        }

        foreach (string folder in Folders)
        {
            if (!index.ContainsKey(folder))
            {
                Visit(folder);
            }
        }

        return result;
    }

    private static bool Counts(SyntaxTokenList modifiers) =>
        !modifiers.Any(SyntaxKind.PrivateKeyword) && !modifiers.Any(SyntaxKind.FileKeyword);

    private static void Declare(Dictionary<string, SortedSet<string>> declaredIn, string name, string folder)
    {
        if (!declaredIn.TryGetValue(name, out SortedSet<string>? set))
        {
            declaredIn[name] = set = new SortedSet<string>(StringComparer.Ordinal);
        }

        set.Add(folder);
    }

    /// <summary>Whether a simple name that spells a type's name stands where it names that type.</summary>
    private static bool NamesAType(SimpleNameSyntax name, HashSet<string> typeLike)
    {
        SyntaxNode? parent = name.Parent;
        foreach (SyntaxNode ancestor in name.Ancestors())
        {
            switch (ancestor)
            {
                case BaseNamespaceDeclarationSyntax ns when ns.Name.Span.Contains(name.Span):
                    return false;
                case UsingDirectiveSyntax u when u.Alias is null && u.StaticKeyword.IsKind(SyntaxKind.None):
                    return false;
            }
        }

        switch (parent)
        {
            // context.Spool: a member of a value, unless the left side is itself a type or namespace chain.
            case MemberAccessExpressionSyntax access when access.Name == name:
                return IsTypeOrNamespaceChain(access.Expression, typeLike);
            case MemberBindingExpressionSyntax:
                return false;
            case NameColonSyntax or NameEqualsSyntax:
                return false;
            case AssignmentExpressionSyntax assign when assign.Left == name && assign.Parent is InitializerExpressionSyntax init
                && (init.IsKind(SyntaxKind.ObjectInitializerExpression) || init.IsKind(SyntaxKind.WithInitializerExpression)):
                return false;
        }

        if (parent is ExpressionColonSyntax colon && colon.Expression == name)
        {
            return false;
        }

        return true;
    }

    private static bool IsTypeOrNamespaceChain(ExpressionSyntax expression, HashSet<string> typeLike) => expression switch
    {
        SimpleNameSyntax simple => typeLike.Contains(simple.Identifier.ValueText),
        MemberAccessExpressionSyntax access => IsTypeOrNamespaceChain(access.Expression, typeLike)
            && typeLike.Contains(access.Name.Identifier.ValueText),
        AliasQualifiedNameSyntax => true,
        PredefinedTypeSyntax => true,
        _ => false,
    };
}
