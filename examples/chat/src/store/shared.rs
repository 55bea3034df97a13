//! [`Shared`]: the rooms in Redis, for chat servers that form one chat.
//!
//! Each operation is one Lua script, run by Redis as one step. The keys, under the prefix
//! (`volley-chat:` by default):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `seat:<peer id>` | hash | `name`, `folded` (lower case), `room`, `node`, `asked` (until when a kick asks them to leave, ms since the epoch; `0`) |
//! | `order:<room>` | sorted set | the members' ids, scored by when they joined |
//! | `names:<room>` | hash | folded name → id (names are unique in a room) |
//! | `history:<room>` | list | the latest messages, as JSON, oldest first |
//! | `rooms` | set | the rooms with someone in them |
//! | `seq` | counter | the join order |
//! | `node:<n>` | set | the ids seated through node `n` |
//! | `nodes` | set | the nodes with someone seated |
//!
//! The scripts name keys they build themselves, which a single Redis (or a replicated one)
//! allows and Redis Cluster does not.

use std::sync::OnceLock;
use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;
use volley::{NodeId, PeerId};

use super::{Kick, Seat, folded};
use crate::{ChatError, ChatMessage, RoomInfo};

/// The rooms in Redis.
pub(crate) struct Shared {
    redis: ConnectionManager,
    prefix: String,
    scripts: Scripts,
    /// How often to look for servers gone.
    sweep_every: Duration,
    /// The servers' alive keys, less the number that ends each, and this server's number:
    /// set once this server has joined the cluster.
    alive: OnceLock<(String, String)>,
}

struct Scripts {
    join: Script,
    post: Script,
    remove: Script,
    roster: Script,
    rooms: Script,
    begin_kick: Script,
    end_kick: Script,
    evict: Script,
    evict_gone: Script,
}

/// What every script starts with: the prefix, and the helpers.
const PRELUDE: &str = r"
local P = ARGV[1]
local function append(room, message, keep)
  if redis.call('ZCARD', P .. 'order:' .. room) == 0 then return end
  local key = P .. 'history:' .. room
  if keep <= 0 then redis.call('DEL', key) return end
  redis.call('RPUSH', key, message)
  redis.call('LTRIM', key, -keep, -1)
end
local function roster(room)
  local out = {}
  for _, id in ipairs(redis.call('ZRANGE', P .. 'order:' .. room, 0, -1)) do
    local name = redis.call('HGET', P .. 'seat:' .. id, 'name')
    if name then
      table.insert(out, id)
      table.insert(out, name)
    end
  end
  return out
end
local function unseat(id)
  local seat = P .. 'seat:' .. id
  local place = redis.call('HMGET', seat, 'name', 'folded', 'room', 'node')
  if not place[1] then return nil end
  local room = place[3]
  redis.call('DEL', seat)
  redis.call('ZREM', P .. 'order:' .. room, id)
  if redis.call('HGET', P .. 'names:' .. room, place[2]) == id then
    redis.call('HDEL', P .. 'names:' .. room, place[2])
  end
  redis.call('SREM', P .. 'node:' .. place[4], id)
  if redis.call('ZCARD', P .. 'order:' .. room) == 0 then
    redis.call('DEL', P .. 'history:' .. room, P .. 'names:' .. room, P .. 'order:' .. room)
    redis.call('SREM', P .. 'rooms', room)
  end
  return {place[1], room}
end
local function evict(node)
  local out = {}
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node)) do
    local seat = unseat(id)
    if seat then
      table.insert(out, seat[1])
      table.insert(out, seat[2])
    end
  end
  redis.call('DEL', P .. 'node:' .. node)
  redis.call('SREM', P .. 'nodes', node)
  return out
end
";

/// ARGV: prefix, id, node, name, folded name, room, announcement, keep.
const JOIN: &str = r"
local id, node, name, folded, room = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local seat = P .. 'seat:' .. id
local mine = redis.call('HGET', seat, 'name')
if mine then return {'already', {mine}, {}} end
local taken = redis.call('HGET', P .. 'names:' .. room, folded)
if taken then
  return {'taken', {redis.call('HGET', P .. 'seat:' .. taken, 'name') or name}, {}}
end
redis.call('HSET', seat, 'name', name, 'folded', folded, 'room', room, 'node', node, 'asked', '0')
redis.call('HSET', P .. 'names:' .. room, folded, id)
redis.call('ZADD', P .. 'order:' .. room, redis.call('INCR', P .. 'seq'), id)
redis.call('SADD', P .. 'rooms', room)
redis.call('SADD', P .. 'node:' .. node, id)
redis.call('SADD', P .. 'nodes', node)
append(room, ARGV[7], tonumber(ARGV[8]))
local names = {}
local r = roster(room)
for i = 2, #r, 2 do table.insert(names, r[i]) end
return {'joined', names, redis.call('LRANGE', P .. 'history:' .. room, 0, -1)}
";

/// ARGV: prefix, room, message, keep.
const POST: &str = r"
append(ARGV[2], ARGV[3], tonumber(ARGV[4]))
return 1
";

/// ARGV: prefix, id. Returns {name, room}, or nothing.
const REMOVE: &str = r"
return unseat(ARGV[2])
";

/// ARGV: prefix, room. Returns {id, name, id, name, ...} in join order.
const ROSTER: &str = r"
return roster(ARGV[2])
";

/// ARGV: prefix. Returns {room, count, room, count, ...}.
const ROOMS: &str = r"
local out = {}
for _, room in ipairs(redis.call('SMEMBERS', P .. 'rooms')) do
  table.insert(out, room)
  table.insert(out, redis.call('ZCARD', P .. 'order:' .. room))
end
return out
";

/// ARGV: prefix, by, folded name, now, until. Returns {outcome, ...}.
const BEGIN_KICK: &str = r"
local by = P .. 'seat:' .. ARGV[2]
local place = redis.call('HMGET', by, 'name', 'room')
if not place[1] then return {'not-joined'} end
local target = redis.call('HGET', P .. 'names:' .. place[2], ARGV[3])
if not target then return {'no-such-member'} end
if target == ARGV[2] then return {'yourself'} end
local seat = P .. 'seat:' .. target
local asked = redis.call('HMGET', seat, 'name', 'asked')
if not asked[1] then return {'no-such-member'} end
if (tonumber(asked[2]) or 0) > tonumber(ARGV[4]) then return {'pending', asked[1]} end
redis.call('HSET', seat, 'asked', ARGV[5])
return {'asking', place[1], place[2], target, asked[1]}
";

/// ARGV: prefix, target, room, until. Clears the mark if this kick set it. Returns 1 when
/// the target is still in the room.
const END_KICK: &str = r"
local seat = P .. 'seat:' .. ARGV[2]
local place = redis.call('HMGET', seat, 'room', 'asked')
if not place[1] then return 0 end
if place[2] == ARGV[4] then redis.call('HSET', seat, 'asked', '0') end
if place[1] == ARGV[3] then return 1 end
return 0
";

/// ARGV: prefix, node. Returns {name, room, name, room, ...}.
const EVICT: &str = r"
return evict(ARGV[2])
";

/// ARGV: prefix, the nodes' alive key less the number, this node's number. Evicts the
/// other nodes whose key is gone (this one's members leave by their own departures, even
/// when its claim has lapsed). Returns {name, room, ...}.
const EVICT_GONE: &str = r"
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if node ~= ARGV[3] and redis.call('EXISTS', ARGV[2] .. node) == 0 then
    for _, v in ipairs(evict(node)) do table.insert(out, v) end
  end
end
return out
";

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

impl Shared {
    /// The rooms kept under `prefix` through `redis`, looking for servers gone every
    /// `sweep_every`.
    pub(crate) fn new(
        redis: ConnectionManager,
        prefix: impl Into<String>,
        sweep_every: Duration,
    ) -> Self {
        Self {
            redis,
            prefix: prefix.into(),
            sweep_every,
            alive: OnceLock::new(),
            scripts: Scripts {
                join: script(JOIN),
                post: script(POST),
                remove: script(REMOVE),
                roster: script(ROSTER),
                rooms: script(ROOMS),
                begin_kick: script(BEGIN_KICK),
                end_kick: script(END_KICK),
                evict: script(EVICT),
                evict_gone: script(EVICT_GONE),
            },
        }
    }

    /// Runs `script` with the prefix and `args`.
    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        args: &[&str],
    ) -> Result<T, ChatError> {
        let mut invocation = script.prepare_invoke();
        invocation.arg(&self.prefix);
        for arg in args {
            invocation.arg(*arg);
        }
        let mut redis = self.redis.clone();
        invocation
            .invoke_async(&mut redis)
            .await
            .map_err(unavailable)
    }

    /// Runs the command `cmd` on `key` with `args`.
    async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &str,
        key: String,
        args: &[&str],
    ) -> Result<T, ChatError> {
        let mut redis = self.redis.clone();
        redis::cmd(cmd)
            .arg(key)
            .arg(args)
            .query_async(&mut redis)
            .await
            .map_err(unavailable)
    }

    pub(crate) async fn join(
        &self,
        id: PeerId,
        seat: &Seat,
        announcement: &ChatMessage,
        keep: usize,
    ) -> Result<(Vec<String>, Vec<ChatMessage>), ChatError> {
        let (outcome, names, history): (String, Vec<String>, Vec<String>) = self
            .run(
                &self.scripts.join,
                &[
                    &id.0.to_string(),
                    &id.node().get().to_string(),
                    &seat.name,
                    &folded(&seat.name),
                    &seat.room,
                    &json(announcement),
                    &keep.to_string(),
                ],
            )
            .await?;
        let name = || names.first().cloned().unwrap_or_default();
        match outcome.as_str() {
            "already" => Err(ChatError::AlreadyJoined { name: name() }),
            "taken" => Err(ChatError::NameTaken { name: name() }),
            _ => Ok((names, history.iter().filter_map(|m| parse(m)).collect())),
        }
    }

    pub(crate) async fn seat(&self, id: PeerId) -> Result<Option<Seat>, ChatError> {
        let key = format!("{}seat:{}", self.prefix, id.0);
        let (name, room): (Option<String>, Option<String>) =
            self.query("HMGET", key, &["name", "room"]).await?;
        Ok(name.zip(room).map(|(name, room)| Seat { name, room }))
    }

    pub(crate) async fn post(
        &self,
        room: &str,
        message: &ChatMessage,
        keep: usize,
    ) -> Result<(), ChatError> {
        let args = [room, &json(message), &keep.to_string()];
        self.run::<i64>(&self.scripts.post, &args).await.map(drop)
    }

    pub(crate) async fn remove(&self, id: PeerId) -> Result<Option<Seat>, ChatError> {
        let seat: Option<(String, String)> =
            self.run(&self.scripts.remove, &[&id.0.to_string()]).await?;
        Ok(seat.map(|(name, room)| Seat { name, room }))
    }

    pub(crate) async fn roster(&self, room: &str) -> Result<Vec<(PeerId, String)>, ChatError> {
        let flat: Vec<(u64, String)> = self.run(&self.scripts.roster, &[room]).await?;
        Ok(flat
            .into_iter()
            .map(|(id, name)| (PeerId(id), name))
            .collect())
    }

    pub(crate) async fn rooms(&self) -> Result<Vec<RoomInfo>, ChatError> {
        let flat: Vec<(String, usize)> = self.run(&self.scripts.rooms, &[]).await?;
        Ok(flat
            .into_iter()
            .map(|(name, members)| RoomInfo { name, members })
            .collect())
    }

    pub(crate) async fn begin_kick(
        &self,
        by: PeerId,
        name: &str,
        now: u64,
        until: u64,
    ) -> Result<Kick, ChatError> {
        let (by, name_folded) = (by.0.to_string(), folded(name));
        let (now, until_ms) = (now.to_string(), until.to_string());
        let args = [by.as_str(), &name_folded, &now, &until_ms];
        let reply: Vec<String> = self.run(&self.scripts.begin_kick, &args).await?;
        match reply.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["asking", by, room, target, target_name] => Ok(Kick {
                by: by.to_owned(),
                room: room.to_owned(),
                target: PeerId(target.parse().map_err(|_| ChatError::Unavailable)?),
                target_name: target_name.to_owned(),
                until,
            }),
            ["pending", name] => Err(ChatError::KickPending {
                name: name.to_owned(),
            }),
            ["yourself"] => Err(ChatError::CannotKickYourself),
            ["no-such-member"] => Err(ChatError::NoSuchMember {
                name: name.to_owned(),
            }),
            _ => Err(ChatError::NotJoined),
        }
    }

    pub(crate) async fn end_kick(&self, kick: &Kick) -> Result<bool, ChatError> {
        let args = [
            &kick.target.0.to_string(),
            kick.room.as_str(),
            &kick.until.to_string(),
        ];
        let here: i64 = self.run(&self.scripts.end_kick, &args).await?;
        Ok(here == 1)
    }

    pub(crate) async fn seated_on(&self, node: NodeId) -> Result<Vec<PeerId>, ChatError> {
        let key = format!("{}node:{}", self.prefix, node.get());
        let ids: Vec<u64> = self.query("SMEMBERS", key, &[]).await?;
        Ok(ids.into_iter().map(PeerId).collect())
    }

    pub(crate) async fn evict(&self, node: NodeId) -> Result<Vec<Seat>, ChatError> {
        let flat: Vec<(String, String)> = self
            .run(&self.scripts.evict, &[&node.get().to_string()])
            .await?;
        Ok(seats(flat))
    }

    /// Knows the cluster from now on: this server is `node`, whose alive key is
    /// `alive_key` (the others' differ only in the number that ends it).
    pub(crate) fn set_alive(&self, node: NodeId, alive_key: &str) {
        let number = node.get().to_string();
        let stem = alive_key.strip_suffix(&number).unwrap_or(alive_key);
        let _ = self.alive.set((stem.to_owned(), number));
    }

    pub(crate) fn sweep_every(&self) -> Duration {
        self.sweep_every
    }

    /// Unseats the members of every other server whose alive key is gone (none before
    /// [`Shared::set_alive`]).
    pub(crate) async fn evict_gone(&self) -> Result<Vec<Seat>, ChatError> {
        let Some((stem, own)) = self.alive.get() else {
            return Ok(Vec::new());
        };
        let flat: Vec<(String, String)> = self.run(&self.scripts.evict_gone, &[stem, own]).await?;
        Ok(seats(flat))
    }
}

/// What a Redis error becomes: logged, and [`ChatError::Unavailable`] for the caller.
fn unavailable(e: redis::RedisError) -> ChatError {
    tracing::error!(error = %e, "the rooms in Redis cannot be reached");
    ChatError::Unavailable
}

fn seats(flat: Vec<(String, String)>) -> Vec<Seat> {
    flat.into_iter()
        .map(|(name, room)| Seat { name, room })
        .collect()
}

fn json(message: &ChatMessage) -> String {
    serde_json::to_string(message).unwrap_or_default()
}

fn parse(message: &str) -> Option<ChatMessage> {
    serde_json::from_str(message).ok()
}
