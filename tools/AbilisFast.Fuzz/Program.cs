using AbilisFast.Fuzz;
using SharpFuzz;

// AbilisFast.Fuzz TARGET            under afl-fuzz: the persistent SharpFuzz loop (input on standard input)
// AbilisFast.Fuzz TARGET FILE...    run each file once and say whether it passed (repro of a crash)
// AbilisFast.Fuzz seed DIR          write the seed corpus into DIR/<target>/
// AbilisFast.Fuzz show FILE          run one "in" input and print the session's replies
if (args.Length == 2 && args[0] == "seed")
{
    await SeedCorpus.WriteAsync(args[1]).ConfigureAwait(false);
    return 0;
}

if (args.Length == 2 && args[0] == "show")
{
    using var harness = new InTransactionHarness();
    InOutcome outcome = harness.RunFuzzInput(File.ReadAllBytes(args[1]));
    Console.Write(outcome.Replies);
    Console.WriteLine($"({outcome.Messages.Count} message(s) queued)");
    return 0;
}

if (args.Length == 0 || !FuzzTargets.IsTarget(args[0]))
{
    await Console.Error.WriteLineAsync($"usage: AbilisFast.Fuzz {string.Join('|', FuzzTargets.Names)} [FILE...] | seed DIR | show FILE").ConfigureAwait(false);
    return 2;
}

using var targets = new FuzzTargets();
string target = args[0];
if (args.Length == 1)
{
    Fuzzer.Run(stream =>
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        targets.Run(target, copy.GetBuffer().AsSpan(0, (int)copy.Length));
    });
    return 0;
}

int failed = 0;
foreach (string file in args.Skip(1))
{
    try
    {
        targets.Run(target, File.ReadAllBytes(file));
        Console.WriteLine($"ok      {file}");
    }
    catch (Exception e)
    {
        failed++;
        Console.WriteLine($"FAILED  {file}: {e}");
    }
}

return failed == 0 ? 0 : 1;
