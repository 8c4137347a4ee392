package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of real servers (masters only), for tests that
// check the keys of one person share a hash slot.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts n ≥ 3 servers in cluster mode and joins them with
// redis-cli --cluster create.
func StartCluster(n int) (*Cluster, error) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		return nil, ErrNoRedis
	}
	c := &Cluster{}
	for range n {
		s, err := startWith("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, s)
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis-cli --cluster create: %v: %s", err, out)
	}
	// Wait until every node agrees that the cluster is up.
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range c.Nodes {
		for {
			info, err := redis.NewClient(&redis.Options{Addr: s.Addr}).ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				return nil, fmt.Errorf("cluster did not come up: %v %s", err, info)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c, nil
}

// MustStartCluster starts a cluster for a test and closes it at the end;
// with CI=true a missing redis-server fails instead of skipping.
func MustStartCluster(t interface {
	Helper()
	Skip(...any)
	Fatal(...any)
	Cleanup(func())
}, n int) *Cluster {
	t.Helper()
	c, err := StartCluster(n)
	if errors.Is(err, ErrNoRedis) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Addrs lists the nodes' addresses.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, s := range c.Nodes {
		out = append(out, s.Addr)
	}
	return out
}

// Close stops every node.
func (c *Cluster) Close() {
	for _, s := range c.Nodes {
		s.Close()
	}
}

// Sentinel is a master watched by one Sentinel, for tests of
// REDIS_MASTER_NAME.
type Sentinel struct {
	Master   *Server
	Sentinel *Server
	Name     string
}

// StartSentinel starts a master and a Sentinel that monitors it as name.
func StartSentinel(name string) (*Sentinel, error) {
	master, err := Start()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redistest-sentinel-")
	if err != nil {
		master.Close()
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		master.Close()
		return nil, err
	}
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s 1\nsentinel down-after-milliseconds %s 5000\n",
		port, dir, name, strings.Replace(master.Addr, ":", " ", 1), name)
	path := dir + "/sentinel.conf"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		master.Close()
		return nil, err
	}
	s := &Server{dir: dir, port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port), conf: path}
	if err := s.start(); err != nil {
		master.Close()
		return nil, err
	}
	return &Sentinel{Master: master, Sentinel: s, Name: name}, nil
}

// Close stops both servers.
func (s *Sentinel) Close() {
	s.Sentinel.Close()
	s.Master.Close()
}
