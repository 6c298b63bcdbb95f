/**
 * The peer proxies' configurations, as their documentation describes for this job. Each
 * gets one worker / thread, like the single-threaded Node gateway, and keep-alive both ways.
 */
import type { RunningBinary } from './external.js';
import { startBinary } from './external.js';

export interface PeerSettings {
  /** The upstream's capacity, req/s: nginx's configured rate. */
  readonly rate: number;
  /** nginx `limit_req` burst (nodelay). */
  readonly burst: number;
  /** HAProxy `maxconn` on the server line. */
  readonly concurrency: number;
  /** HAProxy `timeout queue`, ms. */
  readonly queueTimeoutMs: number;
}

/** nginx `limit_req` at the upstream's capacity, burst with nodelay; refusals are its default 503. */
export function startNginx(binary: string, upstreamUrl: string, s: PeerSettings): Promise<RunningBinary> {
  const up = new URL(upstreamUrl);
  return startBinary('nginx', binary, ['-p', '{dir}', '-c', '{dir}/nginx.conf'], 'nginx.conf', (dir, port) => `
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections 16000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 30s;
  keepalive_requests 1000000;
  limit_req_zone $binary_remote_addr zone=all:1m rate=${Math.round(s.rate)}r/s;
  upstream demo {
    server ${up.hostname}:${up.port};
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      limit_req zone=all burst=${s.burst} nodelay;
      proxy_pass http://demo;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`);
}

/** HAProxy `maxconn` on the server (its queue) and `timeout queue`; refusals are its 503 at the queue timeout. */
export function startHaproxy(binary: string, upstreamUrl: string, s: PeerSettings, threads = 1): Promise<RunningBinary> {
  const up = new URL(upstreamUrl);
  return startBinary('haproxy', binary, ['-db', '-f', '{dir}/haproxy.cfg'], 'haproxy.cfg', (_dir, port) => `
global
  maxconn 9900
  nbthread ${threads}
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
  timeout queue ${s.queueTimeoutMs}ms
frontend fe
  bind 127.0.0.1:${port}
  maxconn 9900
  default_backend be
backend be
  server up ${up.hostname}:${up.port} maxconn ${s.concurrency}
`);
}
