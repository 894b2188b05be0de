# The gateway node image: multi-stage build, runs as the non-root "app" user of the .NET images.
#   docker build -f Silo.Dockerfile -t agent-gateway-silo .
#   docker run -p 8080:8080 -v gateway-alerts:/var/lib/agent-gateway/alerts \
#     -e Gateway__AdminApiKey=... -e Gateway__Tenants__acme__ApiKey=... agent-gateway-silo
# Off loopback, /admin and /v1 answer only with keys (README, Authentication).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
RUN dotnet publish src/Silo/Silo.csproj -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The alert outbox must survive a restart: a directory the non-root user can write, meant for a volume.
RUN mkdir -p /var/lib/agent-gateway/alerts && chown "$APP_UID" /var/lib/agent-gateway/alerts
# Inside a container the node must listen on every interface; the embedded default (loopback:5080)
# applies only when no address is configured.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Logging__Console__FormatterName=json \
    Alerts__OutboxDirectory=/var/lib/agent-gateway/alerts
VOLUME /var/lib/agent-gateway/alerts
# Probes: GET /alive (liveness) and GET /health (readiness).
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "AgentGateway.Silo.dll"]
