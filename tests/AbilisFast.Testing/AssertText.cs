namespace AbilisFast.Server.Tests.Support;

/// <summary>Assertions on a text (a mail, a report, an exposition) that name everything wrong at once.</summary>
internal static class AssertText
{
    /// <summary>
    /// Fails unless <paramref name="text"/> contains every one of <paramref name="parts"/> (ordinal
    /// comparison); the message lists each missing part, then the text.
    /// </summary>
    public static void ContainsAll(string? text, params string[] parts)
    {
        Assert.NotNull(text);
        string[] missing = [.. parts.Where(part => !text.Contains(part, StringComparison.Ordinal))];
        Assert.True(missing.Length == 0, $"{missing.Length} of {parts.Length} parts missing:\n{string.Join("\n", missing)}\n--- in the text:\n{text}");
    }
}
