namespace AbilisFast;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.WriteLine("abilisfast");
        return 0;
    }
}
