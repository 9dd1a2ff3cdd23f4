package livetest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill the server when the test
// binary dies, even where no cleanup runs (SIGKILL, test timeout).
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
