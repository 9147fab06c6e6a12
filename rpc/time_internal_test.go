package rpc

import "time"

func timeAt(unix int64) time.Time { return time.Unix(unix, 0) }
