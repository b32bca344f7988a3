; Filterscope's Windows installer (Inno Setup 6).
;
; Build the one-folder app first, then compile this script (from the repository's root):
;   pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\filterscope.spec
;   iscc /DAppVersion=0.1.0 packaging\windows\filterscope.iss
; -> dist\filterscope-0.1.0-windows-x64-setup.exe
; It installs dist\filterscope\* into Program Files (all users, needs admin) or, chosen in the
; first dialog, into the user's own programs folder (no admin); a Start-menu shortcut; uninstall
; from Settings > Apps.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppExe "filterscope.exe"
#define Bundle "..\..\dist\filterscope"

#if !FileExists(AddBackslash(SourcePath) + "..\..\dist\filterscope\filterscope.exe")
  #error dist\filterscope\filterscope.exe is missing: build the one-folder app with PyInstaller first
#endif

[Setup]
AppId={{6C0B5E0A-2F4B-4B7E-9D63-5A8E3C1F4D21}
AppName=Filterscope
AppVersion={#AppVersion}
AppVerName=Filterscope {#AppVersion}
AppPublisher=Filterscope
DefaultDirName={autopf}\Filterscope
DefaultGroupName=Filterscope
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=filterscope-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName=Filterscope {#AppVersion}

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Filterscope"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\Filterscope"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,Filterscope}"; Flags: nowait postinstall skipifsilent

