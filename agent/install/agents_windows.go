package install

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// A running agent is told to close through a named event in the Global
// namespace (shared by every session on the PC), one per process. Events are
// the Windows way for a service or installer to reach a program in a user's
// session; the name carries the process ID, so that the installer sets
// exactly the agents it found.
func closeEventName(pid uint32) string { return fmt.Sprintf(`Global\tiepdon-close-%d`, pid) }

// ListenForClose creates this process's close event; the channel closes when
// an installer sets it (CloseAgents). The agent then stops as on Ctrl+C.
func ListenForClose(ctx context.Context) (<-chan struct{}, error) {
	// SYSTEM, Administrators and the agent's own user may set it.
	sddl := "D:(A;;GA;;;SY)(A;;GA;;;BA)"
	if tu, err := windows.GetCurrentProcessToken().GetTokenUser(); err == nil {
		sddl += "(A;;GA;;;" + tu.User.Sid.String() + ")"
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{}))}
	if sd, err := windows.SecurityDescriptorFromString(sddl); err == nil {
		sa.SecurityDescriptor = sd
	}
	name, _ := windows.UTF16PtrFromString(closeEventName(windows.GetCurrentProcessId()))
	h, err := windows.CreateEvent(sa, 1, 0, name)
	if err != nil {
		return nil, fmt.Errorf("creating the close event: %w", err)
	}
	c := make(chan struct{})
	go func() {
		defer windows.CloseHandle(h)
		for ctx.Err() == nil {
			if ev, _ := windows.WaitForSingleObject(h, 500); ev == windows.WAIT_OBJECT_0 {
				close(c)
				return
			}
		}
	}()
	return c, nil
}

// Agent is a running tiepdon.exe found by RunningAgents.
type Agent struct {
	PID     uint32   `json:"pid"`
	Session uint32   `json:"session"` // the Windows session (user logon) it runs in
	Args    []string `json:"args"`    // its command line after the program name
}

// Run reports whether the process is the agent itself ("tiepdon run"), as
// the Start menu and autostart start it, rather than a command such as
// "tiepdon doctor".
func (a Agent) Run() bool { return len(a.Args) > 0 && a.Args[0] == "run" }

// RunningAgents lists the processes running exe (a full path, compared
// without regard to case).
func RunningAgents(exe string) ([]Agent, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	defer windows.CloseHandle(snap)
	want := strings.ToLower(filepath.Clean(exe))
	base := strings.ToLower(filepath.Base(exe))
	var out []Agent
	e := windows.ProcessEntry32{Size: uint32(unsafe.Sizeof(windows.ProcessEntry32{}))}
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		if strings.ToLower(windows.UTF16ToString(e.ExeFile[:])) != base || e.ProcessID == windows.GetCurrentProcessId() {
			continue
		}
		h, err := windows.OpenProcess(windows.PROCESS_QUERY_INFORMATION|windows.PROCESS_VM_READ, false, e.ProcessID)
		if err != nil {
			if h, err = windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, e.ProcessID); err != nil {
				continue
			}
		}
		buf := make([]uint16, windows.MAX_LONG_PATH)
		n := uint32(len(buf))
		qerr := windows.QueryFullProcessImageName(h, 0, &buf[0], &n)
		args := commandLine(h)
		windows.CloseHandle(h)
		if qerr != nil || strings.ToLower(filepath.Clean(windows.UTF16ToString(buf[:n]))) != want {
			continue
		}
		a := Agent{PID: e.ProcessID, Args: args}
		windows.ProcessIdToSessionId(e.ProcessID, &a.Session)
		out = append(out, a)
	}
	return out, nil
}

// commandLine is a process's arguments after the program name, or nil.
func commandLine(h windows.Handle) []string {
	line, ok := "", false
	buf := make([]byte, 64<<10)
	var n uint32
	if err := windows.NtQueryInformationProcess(h, windows.ProcessCommandLineInformation, unsafe.Pointer(&buf[0]), uint32(len(buf)), &n); err == nil {
		line, ok = (*windows.NTUnicodeString)(unsafe.Pointer(&buf[0])).String(), true
	} else {
		// Before Windows 8.1 (and in Wine 8) only from the process's PEB.
		line, ok = pebCommandLine(h)
	}
	if !ok {
		return nil
	}
	args, err := windows.DecomposeCommandLine(line)
	if err != nil || len(args) == 0 {
		return nil
	}
	return args[1:]
}

// pebCommandLine reads the command line from the process's environment
// block (PEB → RTL_USER_PROCESS_PARAMETERS → CommandLine).
func pebCommandLine(h windows.Handle) (string, bool) {
	var pbi windows.PROCESS_BASIC_INFORMATION
	var n uint32
	if windows.NtQueryInformationProcess(h, windows.ProcessBasicInformation, unsafe.Pointer(&pbi), uint32(unsafe.Sizeof(pbi)), &n) != nil || pbi.PebBaseAddress == nil {
		return "", false
	}
	read := func(addr uintptr, dst unsafe.Pointer, size uintptr) bool {
		var got uintptr
		return windows.ReadProcessMemory(h, addr, (*byte)(dst), size, &got) == nil && got == size
	}
	var peb windows.PEB
	if !read(uintptr(unsafe.Pointer(pbi.PebBaseAddress)), unsafe.Pointer(&peb), unsafe.Sizeof(peb)) || peb.ProcessParameters == nil {
		return "", false
	}
	var params windows.RTL_USER_PROCESS_PARAMETERS
	if !read(uintptr(unsafe.Pointer(peb.ProcessParameters)), unsafe.Pointer(&params), unsafe.Sizeof(params)) {
		return "", false
	}
	cl := params.CommandLine
	if cl.Length == 0 || cl.Buffer == nil {
		return "", false
	}
	u := make([]uint16, cl.Length/2)
	if !read(uintptr(unsafe.Pointer(cl.Buffer)), unsafe.Pointer(&u[0]), uintptr(cl.Length)) {
		return "", false
	}
	return windows.UTF16ToString(u), true
}

// CloseAgents asks each agent to close (its close event) and waits up to
// timeout for all of them to exit; what is still running then, or never
// listened (an older version, a command such as "tiepdon doctor"), is ended
// as taskkill /f would. It returns how many closed on request and how many
// were ended.
func CloseAgents(agents []Agent, timeout time.Duration) (closed, ended int) {
	type proc struct {
		h     windows.Handle
		asked bool
	}
	var procs []proc
	for _, a := range agents {
		h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_TERMINATE, false, a.PID)
		if err != nil {
			continue
		}
		p := proc{h: h}
		name, _ := windows.UTF16PtrFromString(closeEventName(a.PID))
		if ev, err := windows.OpenEvent(windows.EVENT_MODIFY_STATE, false, name); err == nil {
			p.asked = windows.SetEvent(ev) == nil
			windows.CloseHandle(ev)
		}
		procs = append(procs, p)
	}
	deadline := time.Now().Add(timeout)
	for _, p := range procs {
		wait := uint32(0)
		if p.asked {
			wait = uint32(max(time.Until(deadline), 0) / time.Millisecond)
		}
		if ev, _ := windows.WaitForSingleObject(p.h, wait); ev == windows.WAIT_OBJECT_0 {
			closed++
		} else if windows.TerminateProcess(p.h, 1) == nil {
			windows.WaitForSingleObject(p.h, 5000)
			ended++
		}
		windows.CloseHandle(p.h)
	}
	return closed, ended
}

// restartFile is where CloseAgents' caller records the agents to start
// again once the new version is in place.
func restartFile(programData string) string {
	return filepath.Join(programData, "tiepdon", "restart-after-install.json")
}

// SaveRestart records the agents ("tiepdon run") to start again after the
// install (RestartAgents).
func SaveRestart(programData string, agents []Agent) error {
	var runs []Agent
	for _, a := range agents {
		if a.Run() {
			runs = append(runs, a)
		}
	}
	if len(runs) == 0 {
		return nil
	}
	b, _ := json.Marshal(runs)
	f := restartFile(programData)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return err
	}
	return os.WriteFile(f, b, 0o644)
}

// RestartAgents starts exe again for each agent SaveRestart recorded, with
// the same arguments, in its session, and forgets them. In the installer's
// own session the agent starts as a child of the installer's user; in
// another session (an install run as SYSTEM by a deployment tool) it starts
// as the user logged on there.
func RestartAgents(programData, exe string) (started int, err error) {
	f := restartFile(programData)
	b, err := os.ReadFile(f)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	os.Remove(f)
	var agents []Agent
	if err := json.Unmarshal(b, &agents); err != nil {
		return 0, fmt.Errorf("%s: %w", f, err)
	}
	var mySession uint32
	windows.ProcessIdToSessionId(windows.GetCurrentProcessId(), &mySession)
	var errs []error
	for _, a := range agents {
		var tok windows.Token
		if a.Session != mySession {
			if err := windows.WTSQueryUserToken(a.Session, &tok); err != nil {
				errs = append(errs, fmt.Errorf("session %d: %w", a.Session, err))
				continue
			}
		}
		err := startOnDesktop(tok, exe, a.Args)
		if tok != 0 {
			tok.Close()
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		started++
	}
	return started, errors.Join(errs...)
}

// startOnDesktop starts exe with args in its folder, detached, on the
// interactive desktop (winsta0\default) rather than the installer's (a
// custom action may run in a service's window station, where no window can
// open), as the token's user when tok is not 0.
func startOnDesktop(tok windows.Token, exe string, args []string) error {
	line := windows.EscapeArg(exe)
	for _, a := range args {
		line += " " + windows.EscapeArg(a)
	}
	cmdLine, err := windows.UTF16PtrFromString(line)
	if err != nil {
		return err
	}
	app, _ := windows.UTF16PtrFromString(exe)
	dir, _ := windows.UTF16PtrFromString(filepath.Dir(exe))
	desktop, _ := windows.UTF16PtrFromString(`winsta0\default`)
	si := &windows.StartupInfo{Cb: uint32(unsafe.Sizeof(windows.StartupInfo{})), Desktop: desktop}
	var pi windows.ProcessInformation
	flags := uint32(windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS | windows.CREATE_UNICODE_ENVIRONMENT)
	if tok == 0 {
		err = windows.CreateProcess(app, cmdLine, nil, nil, false, flags, nil, dir, si, &pi)
	} else {
		var env *uint16
		var block *uint16
		if windows.CreateEnvironmentBlock(&block, tok, false) == nil {
			env = block
			defer windows.DestroyEnvironmentBlock(block)
		}
		err = windows.CreateProcessAsUser(tok, app, cmdLine, nil, nil, false, flags, env, dir, si, &pi)
	}
	if err != nil {
		return fmt.Errorf("starting %s: %w", exe, err)
	}
	windows.CloseHandle(pi.Thread)
	windows.CloseHandle(pi.Process)
	return nil
}
