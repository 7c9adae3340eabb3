namespace AbilisFast.Server.Spool;

internal static class SpoolIds
{
    /// <summary>Eight upper-case hex digits, e.g. 84A582F6.</summary>
    public static string Format(uint id) => id.ToString("X8", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads an id as the console and the replies show it (1 to 8 hex digits, any case).</summary>
    public static bool TryParse(string text, out uint id) =>
        uint.TryParse(text, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out id) && text.Length <= 8;

    /// <summary>A starting id for an empty spool, derived from the clock (16 ms units); never 0.</summary>
    public static uint TimeDerived()
    {
        uint v = (uint)(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() >> 4);
        return v == 0 ? 1 : v;
    }
}
