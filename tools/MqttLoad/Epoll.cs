using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Platform.MqttLoad;

/// <summary>
/// Linux epoll for one thread watching many non-blocking sockets: a wait costs one system call
/// and reports only the ready sockets, whatever their number. Level-triggered.
/// </summary>
public sealed partial class Epoll : IDisposable
{
    public const uint In = 0x001;
    public const uint Out = 0x004;
    public const uint Error = 0x008;
    public const uint HangUp = 0x010;

    private const int CtlAdd = 1;
    private const int CtlDel = 2;
    private const int CtlMod = 3;

    private readonly int _fd;
    private readonly EpollEvent[] _events;

    public Epoll(int capacity = 1024)
    {
        _fd = EpollCreate1(0);
        if (_fd < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _events = new EpollEvent[capacity];
    }

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    public void Add(Socket socket, int id, uint events) => Control(CtlAdd, socket, id, events);

    public void Modify(Socket socket, int id, uint events) => Control(CtlMod, socket, id, events);

    public void Remove(Socket socket) => Control(CtlDel, socket, 0, 0);

    /// <summary>Waits up to <paramref name="timeoutMs"/> (0 = poll) and calls <paramref name="onEvent"/> per ready socket.</summary>
    public int Wait<TState>(int timeoutMs, TState state, Action<TState, int, uint> onEvent)
    {
        var count = EpollWait(_fd, _events, _events.Length, timeoutMs);
        if (count < 0)
        {
            return 0; // EINTR
        }

        for (var i = 0; i < count; i++)
        {
            onEvent(state, (int)_events[i].Data, _events[i].Events);
        }

        return count;
    }

    private void Control(int operation, Socket socket, int id, uint events)
    {
        var ev = new EpollEvent { Events = events, Data = (ulong)id };
        if (EpollCtl(_fd, operation, (int)socket.Handle, ref ev) != 0)
        {
            throw new InvalidOperationException($"epoll_ctl({operation}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose() => Close(_fd);

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epfd, int op, int fd, ref EpollEvent ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int EpollWait(int epfd, [Out] EpollEvent[] events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
