/* conpty_probe.exe: the ConPTY sequence jobs/shell_windows.go uses (CreatePseudoConsole, then
 * cmd.exe started with PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE and STARTF_USESTDHANDLES with null
 * handles, as charmbracelet/x/conpty does), without Go: types "set /a 6*7" and "exit 4" and
 * prints what came back through the console and the exit code. On Windows the output holds
 * 42 and the exit code is 4. Built at test time with x86_64-w64-mingw32-gcc. */
#define _WIN32_WINNT 0x0A00
#include <stdio.h>
#include <string.h>
#include <windows.h>

#ifndef PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE
#define PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE 0x00020016
#endif
typedef HRESULT(WINAPI *create_pc_fn)(COORD, HANDLE, HANDLE, DWORD, void **);

static HANDLE out_read;
static char output[65536];
static DWORD output_len;

static DWORD WINAPI reader(void *arg)
{
	DWORD n;
	(void)arg;
	while (output_len < sizeof(output) - 1 && ReadFile(out_read, output + output_len, (DWORD)(sizeof(output) - 1 - output_len), &n, NULL) && n > 0)
		output_len += n;
	return 0;
}

int main(void)
{
	HANDLE in_read, in_write, out_write;
	void *pc;
	SIZE_T size = 0;
	STARTUPINFOEXW si;
	PROCESS_INFORMATION pi;
	WCHAR cmd[] = L"C:\\windows\\system32\\cmd.exe";
	const char *keys = "set /a 6*7\r\nexit 4\r\n";
	DWORD n, code = 0;
	create_pc_fn create_pc = (create_pc_fn)GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "CreatePseudoConsole");
	COORD sz = {80, 25};

	if (!create_pc) {
		printf("result: no CreatePseudoConsole\n");
		return 2;
	}
	if (!CreatePipe(&in_read, &in_write, NULL, 0) || !CreatePipe(&out_read, &out_write, NULL, 0))
		return 3;
	if (create_pc(sz, in_read, out_write, 0, &pc) != S_OK) {
		printf("result: CreatePseudoConsole failed\n");
		return 2;
	}
	memset(&si, 0, sizeof(si));
	si.StartupInfo.cb = sizeof(si);
	si.StartupInfo.dwFlags = STARTF_USESTDHANDLES; /* null handles: the console's own */
	InitializeProcThreadAttributeList(NULL, 1, 0, &size);
	si.lpAttributeList = HeapAlloc(GetProcessHeap(), 0, size);
	InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &size);
	UpdateProcThreadAttribute(si.lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE, pc, sizeof(pc), NULL, NULL);
	if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, EXTENDED_STARTUPINFO_PRESENT, NULL, NULL, &si.StartupInfo, &pi)) {
		printf("result: CreateProcess failed %lu\n", GetLastError());
		return 2;
	}
	CreateThread(NULL, 0, reader, NULL, 0, NULL);
	WriteFile(in_write, keys, (DWORD)strlen(keys), &n, NULL);
	WaitForSingleObject(pi.hProcess, 10000);
	GetExitCodeProcess(pi.hProcess, &code);
	Sleep(500);
	output[output_len] = 0;
	printf("exit: %lu\noutput: %s\n", code, output);
	return 0;
}
