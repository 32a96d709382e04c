# Installs omniagent as a Windows service. Run from an elevated PowerShell in the unzipped folder:
#   powershell -ExecutionPolicy Bypass -File install.ps1 [-Config C:\path\agent.toml]
param([string]$Config = "")
$ErrorActionPreference = "Stop"
$dest = Join-Path $env:ProgramFiles "omniagent"
New-Item -ItemType Directory -Force -Path $dest | Out-Null
$exe = Join-Path $dest "omniagent.exe"
if (Get-Service -Name omniagent -ErrorAction SilentlyContinue) {
    & $exe stop 2>$null
}
Copy-Item -Force (Join-Path $PSScriptRoot "omniagent.exe") $exe
$data = Join-Path $env:ProgramData "omniagent"
New-Item -ItemType Directory -Force -Path $data | Out-Null
if (-not (Test-Path (Join-Path $data "agent.toml")) -and -not $Config) {
    Copy-Item (Join-Path $PSScriptRoot "agent.toml.example") (Join-Path $data "agent.toml")
}
# Only SYSTEM and Administrators may read the config (it may hold secrets).
icacls $data /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" | Out-Null
if (Get-Service -Name omniagent -ErrorAction SilentlyContinue) {
    & $exe start
} elseif ($Config) {
    & $exe install --config $Config
} else {
    & $exe install
}
if ($LASTEXITCODE -ne 0) { throw "omniagent install failed ($LASTEXITCODE)" }
