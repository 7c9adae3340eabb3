namespace AbilisFast.Server.Delivery;

/// <summary>
/// One SMTP reply as the client side read it: the three-digit code and the text of every line
/// after the code (lines joined with a single space). <see cref="EnhancedStatus"/> is the RFC 3463
/// code at the start of the text when the server sent one.
/// </summary>
internal sealed record SmtpReply(int Code, string Text)
{
    public bool IsPositive => Code is >= 200 and < 400;
    public bool IsTransient => Code is >= 400 and < 500;
    public bool IsPermanent => Code >= 500;

    /// <summary>"x.y.z" taken from the start of the text, or null.</summary>
    public string? EnhancedStatus => LeadingEnhancedStatus(Text);

    /// <summary>The RFC 3463 code "x.y.z" that starts <paramref name="text"/>, or null.</summary>
    public static string? LeadingEnhancedStatus(string text)
    {
        int space = text.IndexOf(' ');
        string first = space < 0 ? text : text[..space];
        return IsEnhancedStatus(first) ? first : null;
    }

    public override string ToString() => Text.Length == 0 ? Code.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Code} {Text}";

    private static bool IsEnhancedStatus(string s)
    {
        string[] parts = s.Split('.');
        return parts.Length == 3
            && parts[0] is "2" or "4" or "5"
            && parts[1].Length is >= 1 and <= 3 && parts[1].All(char.IsAsciiDigit)
            && parts[2].Length is >= 1 and <= 3 && parts[2].All(char.IsAsciiDigit);
    }
}
