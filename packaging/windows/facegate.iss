; Inno Setup 6 script: a Windows installer for FaceGate's PyInstaller bundle (dist\facegate\).
; Built by .github/workflows/windows-installer.yml:  iscc /DAppVersion=0.1.0 packaging\windows\facegate.iss
; Output: dist\facegate-VERSION-setup.exe. Not run on the Linux development machine (see README).
#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
AppId={{E3C315B9-59BA-44B2-8D5B-2F9DD3FC1842}
AppName=FaceGate
AppVersion={#AppVersion}
AppPublisher=FaceGate
DefaultDirName={autopf}\FaceGate
DefaultGroupName=FaceGate
DisableProgramGroupPage=yes
; A door PC: installed once for every user, so it needs administrator rights.
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=facegate-{#AppVersion}-setup
SetupIconFile=..\..\resources\facegate.ico
UninstallDisplayIcon={app}\facegate.exe
Compression=lzma2/fast
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
; The door PC: FaceGate's kiosk starts when someone logs on (set Windows to log the door account on
; automatically) and Task Scheduler starts it again within a minute when it fails. Untested here.
Name: "startatlogon"; Description: "Start FaceGate in kiosk mode at logon and restart it when it fails (door PC)"; Flags: unchecked

[Files]
Source: "..\..\dist\facegate\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\FaceGate"; Filename: "{app}\facegate.exe"
Name: "{autodesktop}\FaceGate"; Filename: "{app}\facegate.exe"; Tasks: desktopicon

[Run]
; One line: Inno Setup has no line continuation inside an entry.
Filename: "powershell.exe"; Tasks: startatlogon; Flags: runhidden; StatusMsg: "Registering the logon task..."; Parameters: "-NoProfile -ExecutionPolicy Bypass -Command ""Register-ScheduledTask -TaskName 'FaceGate kiosk' -Force -Action (New-ScheduledTaskAction -Execute '{app}\facegate.exe' -Argument '--kiosk') -Trigger (New-ScheduledTaskTrigger -AtLogOn) -Principal (New-ScheduledTaskPrincipal -GroupId 'S-1-5-32-545' -RunLevel Limited) -Settings (New-ScheduledTaskSettingsSet -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) -ExecutionTimeLimit (New-TimeSpan -Seconds 0) -MultipleInstances IgnoreNew -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries)"""
Filename: "{app}\facegate.exe"; Description: "{cm:LaunchProgram,FaceGate}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "schtasks.exe"; Parameters: "/Delete /TN ""FaceGate kiosk"" /F"; Flags: runhidden; RunOnceId: "FaceGateTask"

; Uninstalling removes the program folder; the user's gallery lives in their own data folder
; (%LOCALAPPDATA%\FaceGate) and is kept.
