using System.Diagnostics;
using System.Globalization;

namespace Platform.MqttLoad;

/// <summary>CPU time and resident memory of a process, read from /proc (Linux).</summary>
public sealed class ProcessSampler(int pid)
{
    private static readonly double TicksPerSecond = 100; // CLK_TCK on Linux

    private double _startCpu;
    private long _startTimestamp;

    public int Pid { get; } = pid;

    public static ProcessSampler Self() => new(Environment.ProcessId);

    public void Start()
    {
        _startCpu = CpuSeconds();
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>Cores used since <see cref="Start"/> (1.0 = one core fully busy).</summary>
    public double CoresSinceStart()
    {
        var elapsed = Stopwatch.GetElapsedTime(_startTimestamp).TotalSeconds;
        return elapsed <= 0 ? 0 : (CpuSeconds() - _startCpu) / elapsed;
    }

    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        // The command name may contain spaces; fields count from the ')' that ends it.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var user = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var system = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (user + system) / TicksPerSecond;
    }

    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
