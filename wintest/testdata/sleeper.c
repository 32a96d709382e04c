/* sleeper.exe SECONDS [MARKER]: creates the file MARKER (proof it started), sleeps, exits 0.
 * The Wine suite starts it from an OCO job (once as a background child of cmd.exe, once in the
 * foreground) to see the job's timeout kill the whole process tree through the Job Object.
 * Built at test time with x86_64-w64-mingw32-gcc. */
#include <stdlib.h>
#include <windows.h>

int main(int argc, char **argv)
{
	int s = argc > 1 ? atoi(argv[1]) : 60;
	if (argc > 2) {
		HANDLE h = CreateFileA(argv[2], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
		if (h != INVALID_HANDLE_VALUE)
			CloseHandle(h);
	}
	Sleep((DWORD)s * 1000);
	return 0;
}
