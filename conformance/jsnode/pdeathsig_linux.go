package jsnode

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill the child when this process
// dies, even by SIGKILL or a test timeout, where no cleanup runs.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
