# The gateway node image: multi-stage build, runs as the non-root "app" user of the .NET images.
#   docker build -f Silo.Dockerfile -t agent-gateway-silo .
#   docker run -p 8080:8080 agent-gateway-silo
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
RUN dotnet publish src/Silo/Silo.csproj -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# Inside a container the node must listen on every interface; the embedded default (loopback:5080)
# applies only when no address is configured.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Logging__Console__FormatterName=json
# Probes: GET /alive (liveness) and GET /health (readiness).
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "AgentGateway.Silo.dll"]
