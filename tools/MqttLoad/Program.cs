using Platform.MqttLoad;

LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(LoadOptions.Usage);
    return 2;
}

LoadResult result;
try
{
    result = options.Scenario switch
    {
        "fanin" or "fanout" => new FanScenario(options).Run(),
        "conn" => new ConnectionsScenario(options).Run(),
        "connrate" => new ConnectRateScenario(options).Run(),
        _ => throw new ArgumentException($"unknown scenario '{options.Scenario}'"),
    };
}
catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.Net.Sockets.SocketException)
{
    Console.Error.WriteLine($"mqtt-load: {ex.Message}");
    return 1;
}

Console.WriteLine(result.Summary());
Console.WriteLine(result.ToJson());
return result.Lost > 0 && options.QoS > 0 ? 3 : 0;
