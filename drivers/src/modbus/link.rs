//! The I/O edge: opening TCP and RTU links, and one timed request on them.
//!
//! tokio-modbus has no timeout of its own (a silent device hangs a read), so every call is
//! wrapped in [`tokio::time::timeout`]. Responses are checked here rather than through
//! tokio-modbus' typed readers, which assert on the response length in debug builds.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_modbus::client::{Client, Context};
use tokio_modbus::prelude::{Request, Response, SlaveContext};
use tokio_modbus::{ExceptionCode, Slave};

use super::config::Parity;
use super::plan::{Block, BlockData};
use super::profile::{Command, Table};

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The link failed (connection refused or reset, serial error).
    #[error("link: {0}")]
    Transport(String),
    /// An answer that is not a valid response to the request (garbage, wrong unit or length).
    #[error("invalid response: {0}")]
    Garbage(String),
    /// The device answered with a Modbus exception.
    #[error("exception 0x{code:02X} ({name})")]
    Exception {
        /// The exception code.
        code: u8,
        /// Its name.
        name: String,
    },
}

impl CallError {
    /// Whether the device answered at all (exceptions are answers).
    pub fn is_answer(&self) -> bool {
        matches!(self, Self::Exception { .. })
    }
}

fn exception(e: ExceptionCode) -> CallError {
    CallError::Exception {
        code: u8::from(e),
        name: format!("{e}"),
    }
}

/// Connects to a Modbus TCP device, within `timeout`.
pub(crate) async fn connect_tcp(host: &str, timeout: Duration) -> Result<Context, CallError> {
    let addr: SocketAddr = match tokio::time::timeout(timeout, tokio::net::lookup_host(host)).await
    {
        Err(_) => return Err(CallError::Timeout(timeout)),
        Ok(Err(e)) => return Err(CallError::Transport(format!("{host}: {e}"))),
        Ok(Ok(mut addrs)) => addrs
            .next()
            .ok_or_else(|| CallError::Transport(format!("{host}: no address")))?,
    };
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => return Err(CallError::Timeout(timeout)),
        Ok(Err(e)) => return Err(CallError::Transport(format!("{host}: {e}"))),
        Ok(Ok(s)) => s,
    };
    // Modbus requests are small and latency-bound.
    let _ = stream.set_nodelay(true);
    Ok(tokio_modbus::client::tcp::attach(stream))
}

/// Opens a serial port as an RTU client.
pub(crate) fn open_rtu(
    path: &Path,
    baud: u32,
    parity: Parity,
    stop_bits: u8,
) -> Result<Context, CallError> {
    use tokio_serial::SerialPortBuilderExt as _;
    let parity = match parity {
        Parity::None => tokio_serial::Parity::None,
        Parity::Even => tokio_serial::Parity::Even,
        Parity::Odd => tokio_serial::Parity::Odd,
    };
    let stop_bits = if stop_bits == 2 {
        tokio_serial::StopBits::Two
    } else {
        tokio_serial::StopBits::One
    };
    let port = tokio_serial::new(path.to_string_lossy(), baud)
        .parity(parity)
        .stop_bits(stop_bits)
        .data_bits(tokio_serial::DataBits::Eight)
        .open_native_async()
        .map_err(|e| CallError::Transport(format!("{}: {e}", path.display())))?;
    Ok(tokio_modbus::client::rtu::attach(port))
}

async fn call(
    ctx: &mut Context,
    unit: u8,
    request: Request<'_>,
    timeout: Duration,
) -> Result<Response, CallError> {
    ctx.set_slave(Slave(unit));
    match tokio::time::timeout(timeout, ctx.call(request)).await {
        Err(_) => Err(CallError::Timeout(timeout)),
        // tokio-modbus reports undecodable frames as I/O errors of these kinds (a closed
        // connection is BrokenPipe or ConnectionReset instead).
        Ok(Err(tokio_modbus::Error::Transport(e)))
            if matches!(
                e.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            Err(CallError::Garbage(e.to_string()))
        }
        Ok(Err(tokio_modbus::Error::Transport(e))) => Err(CallError::Transport(e.to_string())),
        Ok(Err(tokio_modbus::Error::Protocol(e))) => Err(CallError::Garbage(e.to_string())),
        Ok(Ok(Err(e))) => Err(exception(e)),
        Ok(Ok(Ok(r))) => Ok(r),
    }
}

/// Reads one planned block from `unit`.
pub(crate) async fn read_block(
    ctx: &mut Context,
    unit: u8,
    block: &Block,
    timeout: Duration,
) -> Result<BlockData, CallError> {
    let (start, count) = (block.start, block.count);
    let request = match block.table {
        Table::Coil => Request::ReadCoils(start, count),
        Table::Discrete => Request::ReadDiscreteInputs(start, count),
        Table::Input => Request::ReadInputRegisters(start, count),
        Table::Holding => Request::ReadHoldingRegisters(start, count),
    };
    let want = usize::from(count);
    let data = match call(ctx, unit, request, timeout).await? {
        Response::ReadCoils(bits) | Response::ReadDiscreteInputs(bits) if bits.len() >= want => {
            BlockData::Bits(bits.into_iter().take(want).collect())
        }
        Response::ReadInputRegisters(words) | Response::ReadHoldingRegisters(words)
            if words.len() == want =>
        {
            BlockData::Words(words)
        }
        other => {
            return Err(CallError::Garbage(format!(
                "expected {count} values from {} {start}, got {other:?}",
                block.table
            )));
        }
    };
    Ok(data)
}

/// Performs a profile command on `unit`.
pub(crate) async fn write(
    ctx: &mut Context,
    unit: u8,
    command: &Command,
    timeout: Duration,
) -> Result<(), CallError> {
    let addr = command.address;
    let request = match (command.table, command.values.as_slice()) {
        (Table::Coil, [v]) => Request::WriteSingleCoil(addr, *v != 0),
        (Table::Coil, vs) => {
            Request::WriteMultipleCoils(addr, Cow::Owned(vs.iter().map(|v| *v != 0).collect()))
        }
        (_, [v]) => Request::WriteSingleRegister(addr, *v),
        (_, vs) => Request::WriteMultipleRegisters(addr, Cow::Borrowed(vs)),
    };
    call(ctx, unit, request, timeout).await.map(|_| ())
}
