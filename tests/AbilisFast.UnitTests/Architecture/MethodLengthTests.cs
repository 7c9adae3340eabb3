using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AbilisFast.Server.Tests.Architecture;

/// <summary>
/// No method under src/ is longer than <see cref="MaxLines"/> lines (a reader should see one whole on
/// a screen; in practice they stay under about 60). Methods, constructors, operators, accessors,
/// local functions and top-level programs count, from their first line (attributes and doc comments
/// not included) to their last. The output lists the longest, so a method that grows is seen before
/// it fails.
/// </summary>
public sealed class MethodLengthTests(ITestOutputHelper output)
{
    internal const int MaxLines = 80;

    private static string SrcRoot => Path.Combine(ServerProcess.RepositoryRoot(), "src");

    [Fact]
    public void NoMethodIsLongerThanTheLimit()
    {
        List<(string Name, int Lines)> methods = [];
        foreach (string path in Directory.EnumerateFiles(SrcRoot, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(SrcRoot, path).Replace('\\', '/');
            if (relative.Contains("/bin/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal))
            {
                continue;
            }

            methods.AddRange(Measure(relative, File.ReadAllText(path)));
        }

        List<(string Name, int Lines)> longest = [.. methods.OrderByDescending(m => m.Lines).ThenBy(m => m.Name, StringComparer.Ordinal)];
        output.WriteLine($"{methods.Count} methods; the longest:");
        foreach ((string name, int lines) in longest.Take(25))
        {
            output.WriteLine($"  {lines,4}  {name}");
        }

        Assert.True(methods.Count > 500, $"only {methods.Count} methods found under {SrcRoot}");
        string[] over = [.. longest.Where(m => m.Lines > MaxLines).Select(m => $"{m.Name}: {m.Lines} lines")];
        Assert.True(over.Length == 0, $"methods over {MaxLines} lines (split them):\n" + string.Join("\n", over));
    }

    [Fact]
    public void TheMeasureCountsFromTheSignatureToTheClosingBrace()
    {
        const string source = """
            namespace A;

            internal sealed class C
            {
                /// <summary>Doc comments and attributes do not count.</summary>
                [Obsolete]
                public int Four(int x)
                {
                    return x;
                }

                public int Arrow(int x) =>
                    x + 1;

                public int P
                {
                    get
                    {
                        int Local() => 1;
                        return Local();
                    }
                }

                public C()
                {
                }
            }
            """;
        var measured = Measure("A/C.cs", source).ToDictionary(m => m.Name, m => m.Lines);
        Assert.Equal(4, measured["A/C.cs C.Four"]);
        Assert.Equal(2, measured["A/C.cs C.Arrow"]);
        Assert.Equal(5, measured["A/C.cs C.P.get"]);
        Assert.Equal(1, measured["A/C.cs C.P.get.Local"]);
        Assert.Equal(3, measured["A/C.cs C..ctor"]);
        Assert.Equal(5, measured.Count);
    }

    /// <summary>Every method-like body in one file, named "file Type.Member" with its length in lines.</summary>
    internal static IEnumerable<(string Name, int Lines)> Measure(string relative, string source)
    {
        CompilationUnitSyntax root = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Preview)).GetCompilationUnitRoot();
        if (root.Members.OfType<GlobalStatementSyntax>().ToList() is { Count: > 0 } statements)
        {
            yield return ($"{relative} <top-level>", Lines(statements[0].Span.Start, statements[^1].Span.End, root.SyntaxTree));
        }

        foreach (SyntaxNode node in root.DescendantNodes())
        {
            string? name = node switch
            {
                MethodDeclarationSyntax m => m.Identifier.Text,
                ConstructorDeclarationSyntax => ".ctor",
                DestructorDeclarationSyntax => ".dtor",
                OperatorDeclarationSyntax o => "operator " + o.OperatorToken.Text,
                ConversionOperatorDeclarationSyntax c => "operator " + c.Type,
                AccessorDeclarationSyntax a when a.Body is not null || a.ExpressionBody is not null => Owner(a) + "." + a.Keyword.Text,
                LocalFunctionStatementSyntax l => Enclosing(l) + "." + l.Identifier.Text,
                _ => null,
            };
            if (name is null)
            {
                continue;
            }

            string type = node.Ancestors().OfType<BaseTypeDeclarationSyntax>().FirstOrDefault()?.Identifier.Text ?? "?";
            string full = node is LocalFunctionStatementSyntax ? name : type + "." + name;
            yield return ($"{relative} {(node is LocalFunctionStatementSyntax ? type + "." + name : full)}", Lines(Start(node), node.Span.End, root.SyntaxTree));
        }
    }

    private static string Owner(AccessorDeclarationSyntax accessor) => accessor.Parent?.Parent switch
    {
        PropertyDeclarationSyntax p => p.Identifier.Text,
        EventDeclarationSyntax e => e.Identifier.Text,
        IndexerDeclarationSyntax => "this[]",
        _ => "?",
    };

    private static string Enclosing(SyntaxNode node) => node.Ancestors().FirstOrDefault(a => a is BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or LocalFunctionStatementSyntax) switch
    {
        MethodDeclarationSyntax m => m.Identifier.Text,
        ConstructorDeclarationSyntax => ".ctor",
        AccessorDeclarationSyntax a => Owner(a) + "." + a.Keyword.Text,
        LocalFunctionStatementSyntax l => Enclosing(l) + "." + l.Identifier.Text,
        _ => "?",
    };

    /// <summary>Where a declaration starts once its attributes are left out (its modifiers, type or name).</summary>
    private static int Start(SyntaxNode node)
    {
        SyntaxToken first = node.ChildNodesAndTokens()
            .FirstOrDefault(c => !(c.IsNode && c.AsNode() is AttributeListSyntax)).AsToken() is { RawKind: not 0 } token
            ? token
            : node.ChildNodesAndTokens().First(c => !(c.IsNode && c.AsNode() is AttributeListSyntax)).AsNode()!.GetFirstToken();
        return first.Span.Start;
    }

    private static int Lines(int start, int end, SyntaxTree tree) =>
        tree.GetLineSpan(new Microsoft.CodeAnalysis.Text.TextSpan(start, end - start)).EndLinePosition.Line
        - tree.GetLineSpan(new Microsoft.CodeAnalysis.Text.TextSpan(start, 0)).StartLinePosition.Line + 1;
}
