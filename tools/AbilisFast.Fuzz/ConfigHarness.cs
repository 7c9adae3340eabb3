using System.Text;
using AbilisFast.Server.Configuration;

namespace AbilisFast.Fuzz;

/// <summary>
/// The configuration target: the input is a configuration file (UTF-8, split into lines as
/// <c>File.ReadAllLines</c> splits them) read by the file reader (<see cref="ConfigFileReader"/>:
/// the tokenizer, quotes and comments, <c>iplist</c> and <c>ipban</c> lines) into a
/// <see cref="ParameterStore"/> (every parameter's validation), then checked across parameters and
/// built into settings (<see cref="ParameterStore.ToSettings"/>). Bad input may only give a
/// <see cref="ConfigurationException"/> (the one-line error the server prints); anything else is a
/// finding. A file that reads is then saved the way <c>save conf</c> saves it and read back: the
/// saved file must read without error and give the same parameters, IP lists and IPBAN options,
/// and be valid exactly when the original was.
/// </summary>
internal sealed class ConfigHarness : IDisposable
{
    private readonly string _workDir;
    private readonly string _saved;

    public ConfigHarness()
    {
        string root = Environment.GetEnvironmentVariable("ABILISFAST_FUZZ_TMP") is { Length: > 0 } configured ? configured : Path.GetTempPath();
        _workDir = Path.Combine(root, "abilisfast-fuzz-config-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_workDir);
        _saved = Path.Combine(_workDir, "saved.conf");
    }

    public void Run(ReadOnlySpan<byte> data)
    {
        string[] lines = Lines(Encoding.UTF8.GetString(data));
        var store = new ParameterStore();
        try
        {
            ConfigFileReader.ApplyLines(store, lines, "fuzz.conf");
        }
        catch (ConfigurationException)
        {
            return;
        }

        string? error = Validate(store);
        new LiveConfiguration(store, _saved).Save(_workDir);
        var again = new ParameterStore();
        try
        {
            ConfigFileReader.Apply(again, _saved);
        }
        catch (ConfigurationException e)
        {
            throw new FuzzInvariantException($"the file save conf wrote does not read back: {e.Message}\n{File.ReadAllText(_saved)}");
        }

        Same("parameters", store.Format(revealSecrets: true), again.Format(revealSecrets: true));
        Same("IPBAN options", IpBanParameters.Format(store.IpBan), IpBanParameters.Format(again.IpBan));
        Same("IP lists", Lists(store), Lists(again));
        string? againError = Validate(again);
        if ((error is null) != (againError is null))
        {
            throw new FuzzInvariantException($"valid before save conf: {error is null}, after: {againError is null} ({error ?? againError})");
        }
    }

    /// <summary>The lines as File.ReadAllLines gives them: split at CRLF, CR or LF; no last empty line.</summary>
    public static string[] Lines(string text)
    {
        var lines = new List<string>();
        using var reader = new StringReader(text);
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return [.. lines];
    }

    private string? Validate(ParameterStore store)
    {
        try
        {
            store.ToSettings(_workDir);
            return null;
        }
        catch (ConfigurationException e)
        {
            return e.Message;
        }
    }

    private static List<string> Lists(ParameterStore store) =>
        [.. store.IpLists.Names.Order(StringComparer.Ordinal).Select(name => name + ": " + store.IpLists.Describe(name).Text)];

    private static void Same(string what, IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        if (!before.SequenceEqual(after, StringComparer.Ordinal))
        {
            string first = before.Zip(after).Where(static p => p.First != p.Second).Select(static p => $"{p.First} -> {p.Second}").FirstOrDefault()
                ?? $"{before.Count} -> {after.Count} entries";
            throw new FuzzInvariantException($"save conf changed the {what}: {first}");
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
