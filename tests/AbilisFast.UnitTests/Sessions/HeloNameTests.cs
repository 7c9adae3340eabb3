using System.Text;
using AbilisFast.Protocol.Lines;
using AbilisFast.Server.Sessions;

namespace AbilisFast.Server.Tests.Sessions;

/// <summary>
/// The greeting a session keeps: a short name inside the session, a long one in a pooled array;
/// empty before HELO/EHLO and again after STARTTLS (<see cref="HeloName.Forget"/>).
/// </summary>
public sealed class HeloNameTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(HeloName.InlineSize, true)]
    [InlineData(HeloName.InlineSize + 1, true)]
    [InlineData(LineReader.MaxCommandLine - 7, false)]
    public void KeepsTheNameAndWhetherItCameWithEhlo(int length, bool extended)
    {
        byte[] name = Encoding.ASCII.GetBytes(new string('h', length - 1) + "z");
        HeloName helo = default;
        Assert.True(helo.IsEmpty);
        Assert.Equal(0, helo.Span.Length);

        helo.Set(name, extended);

        Assert.False(helo.IsEmpty);
        Assert.Equal(extended, helo.Extended);
        Assert.Equal(name, helo.Span.ToArray());
        helo.Release();
    }

    [Fact]
    public void ALaterShorterNameReplacesALongerOne()
    {
        HeloName helo = default;
        helo.Set(Encoding.ASCII.GetBytes(new string('a', 300)), true);
        helo.Set("b.test"u8, false);

        Assert.Equal("b.test", Encoding.ASCII.GetString(helo.Span));
        Assert.False(helo.Extended);

        helo.Set(Encoding.ASCII.GetBytes(new string('c', 200)), true);
        Assert.Equal(new string('c', 200), Encoding.ASCII.GetString(helo.Span));
        helo.Release();
    }

    [Fact]
    public void ForgetAndReleaseEmptyIt()
    {
        HeloName helo = default;
        helo.Set("client.test"u8, true);
        helo.Forget();
        Assert.True(helo.IsEmpty);
        Assert.False(helo.Extended);
        Assert.Equal(0, helo.Span.Length);

        helo.Set(Encoding.ASCII.GetBytes(new string('l', 100)), true);
        helo.Release();
        Assert.True(helo.IsEmpty);
        Assert.False(helo.Extended);

        helo.Set("again.test"u8, false);
        Assert.Equal("again.test", Encoding.ASCII.GetString(helo.Span));
    }
}
