package rpc_test

import (
	"fmt"
	"strings"
	"time"
)

func fmtSscan(line string, status *int) (int, error) {
	return fmt.Sscan(strings.Fields(line)[0], status)
}

func timeNow() time.Time { return time.Now() }
