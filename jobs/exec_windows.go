//go:build windows

package jobs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// commandArgv turns a Command into the argv to start, and the raw command line for cmd.exe.
func commandArgv(c Command) (argv []string, cmdline string, err error) {
	comspec := os.Getenv("ComSpec")
	if comspec == "" {
		comspec = filepath.Join(os.Getenv("SystemRoot"), "System32", "cmd.exe")
	}
	return windowsArgv(c, comspec)
}

// procTree is the Job Object holding one command and everything it starts.
type procTree struct {
	job windows.Handle
}

func newKillOnCloseJob() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: CreateJobObject: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("jobs: SetInformationJobObject: %w", err)
	}
	return job, nil
}

func prepareTree(cmd *exec.Cmd, cmdline string) (*procTree, error) {
	job, err := newKillOnCloseJob()
	if err != nil {
		return nil, err
	}
	// Started suspended, so nothing runs before it is inside the job.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// No console window: the agent runs as a service, nobody would see it.
		CreationFlags: windows.CREATE_SUSPENDED | windows.CREATE_NEW_PROCESS_GROUP | windows.CREATE_NO_WINDOW,
		HideWindow:    true,
		CmdLine:       cmdline,
	}
	return &procTree{job: job}, nil
}

var ntResumeProcess = windows.NewLazySystemDLL("ntdll.dll").NewProc("NtResumeProcess")

func (t *procTree) start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE|windows.PROCESS_SUSPEND_RESUME,
		false, uint32(cmd.Process.Pid))
	if err == nil {
		defer windows.CloseHandle(h)
		err = windows.AssignProcessToJobObject(t.job, h)
	}
	if err == nil {
		if st, _, _ := ntResumeProcess.Call(uintptr(h)); st != 0 {
			err = fmt.Errorf("NtResumeProcess: status 0x%x", st)
		}
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("put the process in a job object: %w", err)
	}
	return nil
}

func (t *procTree) kill() {
	if t.job != 0 {
		_ = windows.TerminateJobObject(t.job, 1)
	}
}

// release closes the job after lifting kill-on-close, so processes the command left running
// after a normal exit survive (after a kill there is nothing left anyway).
func (t *procTree) release() {
	if t.job == 0 {
		return
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	_, _ = windows.SetInformationJobObject(t.job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	windows.CloseHandle(t.job)
	t.job = 0
}
