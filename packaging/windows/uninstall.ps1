# Removes the omniagent service. -Purge also deletes C:\ProgramData\omniagent (config and state).
param([switch]$Purge)
$ErrorActionPreference = "Stop"
$exe = Join-Path (Join-Path $env:ProgramFiles "omniagent") "omniagent.exe"
if ($Purge) { & $exe uninstall --purge } else { & $exe uninstall }
if ($LASTEXITCODE -ne 0) { throw "omniagent uninstall failed ($LASTEXITCODE)" }
Remove-Item -Recurse -Force (Join-Path $env:ProgramFiles "omniagent")
