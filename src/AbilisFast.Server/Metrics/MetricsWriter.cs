using System.Globalization;
using System.Text;

namespace AbilisFast.Server.Metrics;

/// <summary>The two text forms the same metrics are written in.</summary>
internal enum MetricsFormat
{
    /// <summary>The Prometheus text exposition format 0.0.4 (GET /metrics).</summary>
    Prometheus,

    /// <summary>OpenMetrics 1.0 text (the console's <c>d m smtp</c>): counter families named without <c>_total</c>, and <c># EOF</c> at the end.</summary>
    OpenMetrics,
}

/// <summary>
/// Writes metric families as text in either format. The two differ only in how a counter family
/// is named in its HELP and TYPE lines (0.0.4: <c>x_total</c>; OpenMetrics: <c>x</c>, its samples
/// <c>x_total</c>) and in the closing <c># EOF</c>; everything else is the same code.
/// </summary>
internal sealed class MetricsWriter(MetricsFormat format)
{
    private readonly StringBuilder _text = new(8192);

    public MetricsFormat Format { get; } = format;

    /// <summary>Starts a gauge family.</summary>
    public MetricsWriter Gauge(string name, string help) => Family(name, "gauge", help);

    /// <summary>Starts a counter family; <paramref name="name"/> ends in <c>_total</c>, as its samples do.</summary>
    public MetricsWriter Counter(string name, string help)
    {
        if (!name.EndsWith("_total", StringComparison.Ordinal))
        {
            throw new ArgumentException("a counter's samples end in _total", nameof(name));
        }

        return Family(Format == MetricsFormat.OpenMetrics ? name[..^"_total".Length] : name, "counter", help);
    }

    /// <summary>A whole counter family with one sample for each value of one label, in the order given.</summary>
    public void Counter(string name, string help, string label, params ReadOnlySpan<(string Value, long Count)> samples)
    {
        Counter(name, help);
        foreach ((string value, long count) in samples)
        {
            Sample(name, Labels((label, value)), count);
        }
    }

    /// <summary>A gauge family with one unlabelled sample.</summary>
    public void Gauge(string name, string help, long value) => Gauge(name, help).Sample(name, value);

    /// <summary>A gauge family with one unlabelled sample.</summary>
    public void Gauge(string name, string help, double value) => Gauge(name, help).Sample(name, string.Empty, value);

    /// <summary>A whole histogram family: the cumulative buckets, +Inf, the sum and the count.</summary>
    public void Histogram(string name, string help, HistogramSnapshot histogram)
    {
        Family(name, "histogram", help);
        for (int i = 0; i < histogram.BoundLabels.Length; i++)
        {
            Sample(name + "_bucket", Labels(("le", histogram.BoundLabels[i])), histogram.Cumulative[i]);
        }

        Sample(name + "_bucket", "le=\"+Inf\"", histogram.Count);
        Sample(name + "_sum", string.Empty, histogram.Sum);
        Sample(name + "_count", string.Empty, histogram.Count);
    }

    public MetricsWriter Sample(string name, long value) => Sample(name, string.Empty, value);

    /// <summary>One sample line; <paramref name="labels"/> is the text between the braces (see <see cref="Labels"/>), or empty.</summary>
    public MetricsWriter Sample(string name, string labels, long value)
    {
        StartSample(name, labels).Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return this;
    }

    public MetricsWriter Sample(string name, string labels, double value)
    {
        string text = double.IsPositiveInfinity(value) ? "+Inf"
            : double.IsNegativeInfinity(value) ? "-Inf"
            : double.IsNaN(value) ? "NaN"
            : value.ToString("R", CultureInfo.InvariantCulture);
        StartSample(name, labels).Append(text).Append('\n');
        return this;
    }

    /// <summary><c>a="x",b="y"</c>, each value escaped as both formats want (backslash, quote, line feed).</summary>
    public static string Labels(params ReadOnlySpan<(string Name, string Value)> labels)
    {
        var text = new StringBuilder();
        foreach ((string name, string value) in labels)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(name).Append("=\"");
            foreach (char c in value)
            {
                _ = c switch
                {
                    '\\' => text.Append("\\\\"),
                    '"' => text.Append("\\\""),
                    '\n' => text.Append("\\n"),
                    _ => text.Append(c),
                };
            }

            text.Append('"');
        }

        return text.ToString();
    }

    /// <summary>The text, with <c># EOF</c> in the OpenMetrics form.</summary>
    public override string ToString()
    {
        return Format == MetricsFormat.OpenMetrics ? _text.ToString() + "# EOF\n" : _text.ToString();
    }

    private MetricsWriter Family(string name, string type, string help)
    {
        _text.Append("# HELP ").Append(name).Append(' ');
        foreach (char c in help)
        {
            _ = c switch
            {
                '\\' => _text.Append("\\\\"),
                '\n' => _text.Append("\\n"),
                _ => _text.Append(c),
            };
        }

        _text.Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    private StringBuilder StartSample(string name, string labels)
    {
        _text.Append(name);
        if (labels.Length > 0)
        {
            _text.Append('{').Append(labels).Append('}');
        }

        return _text.Append(' ');
    }
}
