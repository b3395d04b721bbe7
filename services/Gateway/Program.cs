var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddMqttGateway();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapMqttGateway();

app.Run();
