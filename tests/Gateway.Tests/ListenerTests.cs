using System.Buffers;
using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Platform.Gateway.Management;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;
using static Platform.Gateway.Tests.MqttTestPackets;

namespace Platform.Gateway.Tests;

public sealed class ListenerTests
{
    [Fact]
    public async Task Mqtt_over_websocket_needs_the_mqtt_subprotocol_and_then_works()
    {
        await using var gateway = await GatewayServer.StartAsync();
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("mqtt");
        await socket.ConnectAsync(gateway.WebSocketAddress, CancellationToken.None);
        Assert.Equal("mqtt", socket.SubProtocol);

        var buffer = new ArrayBufferWriter<byte>();
        MqttPacketEncoder.Write(buffer, Connect("ws-client"), MqttProtocolVersion.V500);
        await socket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Binary, true, CancellationToken.None);

        var received = new byte[256];
        var result = await socket.ReceiveAsync(received.AsMemory(), CancellationToken.None);
        using var decoder = new MqttPacketDecoder(isServer: false) { ProtocolVersion = MqttProtocolVersion.V500 };
        var sequence = new ReadOnlySequence<byte>(received, 0, result.Count);
        Assert.True(decoder.TryReadFrame(ref sequence, out var frame));
        Assert.Equal(ReasonCode.Success, Assert.IsType<ConnAckPacket>(decoder.Decode(frame)).ReasonCode);

        using var plain = new ClientWebSocket();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => plain.ConnectAsync(gateway.WebSocketAddress, CancellationToken.None));
        Assert.NotNull(refused);
    }

    [Fact]
    public async Task Mqtt_over_tls_serves_clients_and_can_take_the_identity_from_a_client_certificate()
    {
        using var authority = CreateCertificate("CN=Platform Test CA", issuer: null, isAuthority: true);
        using var server = CreateCertificate("CN=localhost", authority, isAuthority: false);
        using var car = CreateCertificate("CN=VINCERT000000001", authority, isAuthority: false);
        var directory = Directory.CreateTempSubdirectory("gateway-tls");
        var serverPath = Path.Combine(directory.FullName, "server.pfx");
        var caPath = Path.Combine(directory.FullName, "ca.pem");
        await File.WriteAllBytesAsync(serverPath, server.Export(X509ContentType.Pfx));
        await File.WriteAllTextAsync(caPath, authority.ExportCertificatePem());

        await using var gateway = await GatewayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Mqtt:TlsPort"] = "0",
            ["Mqtt:Tls:CertificatePath"] = serverPath,
            ["Mqtt:Tls:AllowClientCertificates"] = "true",
            ["Mqtt:Tls:ClientCaPath"] = caPath,
            ["Mqtt:Auth:AllowWhenNoRuleMatches"] = "false",
            ["Mqtt:Auth:Acl:0:Action"] = "publish",
            ["Mqtt:Auth:Acl:0:Topic"] = "vehicles/%u/#",
        });

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.TlsPort!.Value);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [car],
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()).Thumbprint == server.Thumbprint,
        });

        var output = new ArrayBufferWriter<byte>();
        MqttPacketEncoder.Write(output, Connect("any-id"), MqttProtocolVersion.V500);
        MqttPacketEncoder.Write(output, Publish("vehicles/VINCERT000000001/telemetry", "{}", QualityOfService.AtLeastOnce, 1), MqttProtocolVersion.V500);
        MqttPacketEncoder.Write(output, Publish("vehicles/OTHER/telemetry", "{}", QualityOfService.AtLeastOnce, 2), MqttProtocolVersion.V500);
        await tls.WriteAsync(output.WrittenMemory);

        var packets = await ReadPacketsAsync(tls, 3);
        Assert.Equal(ReasonCode.Success, Assert.IsType<ConnAckPacket>(packets[0]).ReasonCode);
        // The certificate's common name is the identity the ACL sees (%u).
        Assert.Equal(ReasonCode.NoMatchingSubscribers, Assert.IsType<PublishAckPacket>(packets[1]).ReasonCode);
        Assert.Equal(ReasonCode.NotAuthorized, Assert.IsType<PublishAckPacket>(packets[2]).ReasonCode);
        directory.Delete(recursive: true);
    }

    [Fact]
    public async Task The_management_api_lists_clients_and_can_disconnect_one()
    {
        await using var gateway = await GatewayServer.StartAsync();
        var (client, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("managed-car"));
        await using var c = client;
        await client.SendAsync(Subscribe(1, "vehicles/managed-car/commands"));
        await client.ReceiveAsync<SubAckPacket>();
        using var http = new HttpClient { BaseAddress = gateway.HttpAddress };

        var clients = await http.GetFromJsonAsync<List<ClientInfo>>("/api/v1/clients");
        var info = Assert.Single(clients!, i => i.ClientId == "managed-car");
        Assert.Equal("5.0", info.ProtocolVersion);
        Assert.Equal(1, info.Subscriptions);

        var stats = await http.GetFromJsonAsync<GatewayStats>("/api/v1/stats");
        Assert.True(stats!.Connections >= 1);
        Assert.True(stats.Subscriptions >= 1);

        using var missing = await http.DeleteAsync("/api/v1/clients/nobody");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);

        using var kicked = await http.DeleteAsync("/api/v1/clients/managed-car");
        Assert.Equal(HttpStatusCode.NoContent, kicked.StatusCode);
        var (closed, before) = await client.WaitForCloseAsync();
        Assert.True(closed);
        Assert.Equal(ReasonCode.AdministrativeAction, Assert.IsType<DisconnectPacket>(Assert.Single(before)).ReasonCode);
    }

    [Fact]
    public async Task Health_endpoints_report_the_mqtt_listener()
    {
        await using var gateway = await GatewayServer.StartAsync();
        using var http = new HttpClient { BaseAddress = gateway.HttpAddress };
        var health = await http.GetStringAsync("/health");
        Assert.Contains("\"mqtt\"", health, StringComparison.Ordinal);
        Assert.Contains("Healthy", health, StringComparison.Ordinal);
        using var alive = await http.GetAsync("/alive");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    private static async Task<List<MqttPacket>> ReadPacketsAsync(Stream stream, int count)
    {
        using var decoder = new MqttPacketDecoder(isServer: false) { ProtocolVersion = MqttProtocolVersion.V500 };
        var packets = new List<MqttPacket>();
        var buffer = new byte[4096];
        var filled = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (packets.Count < count)
        {
            filled += await stream.ReadAsync(buffer.AsMemory(filled), timeout.Token);
            var sequence = new ReadOnlySequence<byte>(buffer, 0, filled);
            while (decoder.TryReadFrame(ref sequence, out var frame))
            {
                packets.Add(decoder.Decode(frame));
            }

            var rest = (int)sequence.Length;
            Array.Copy(buffer, filled - rest, buffer, 0, rest);
            filled = rest;
        }

        return packets;
    }

    private static X509Certificate2 CreateCertificate(string subject, X509Certificate2? issuer, bool isAuthority)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isAuthority, false, 0, true));
        if (!isAuthority)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }

        var notBefore = DateTimeOffset.UtcNow.AddMinutes(-5);
        var notAfter = DateTimeOffset.UtcNow.AddDays(1);
        if (issuer is null)
        {
            return request.CreateSelfSigned(notBefore, notAfter);
        }

        var serial = RandomNumberGenerator.GetBytes(8);
        using var signed = request.Create(issuer, notBefore, notAfter, serial);
        return signed.CopyWithPrivateKey(key);
    }
}
