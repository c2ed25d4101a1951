package org.kmemlab.replay;

import java.util.regex.Pattern;

import com.carrotsearch.hppc.LongByteHashMap;
import com.carrotsearch.hppc.LongHashSet;

/**
 * Which of a trace's tasks are kernel threads ({@code PF_KTHREAD}), the tasks {@code throttle_direct_reclaim()}
 * never throttles. perf script and ftrace print a comm and a pid, not the task's flags, so:
 * <ul>
 *   <li>a recording by {@code kmemlab record} lists the machine's kernel threads in its snapshot (file
 *       {@value #SNAPSHOT_FILE}: a pid and comm per line, the threads whose {@code /proc/<pid>/stat} flags had
 *       PF_KTHREAD when the recording started);</li>
 *   <li>threads started later, and traces recorded elsewhere, are known by the names the kernel gives its threads
 *       ({@link #NAMES}: kworker/…, ksoftirqd/…, jbd2/…, the ZFS threads txg_sync and z_…, …). A user task named
 *       like one would be taken for a kernel thread and not throttled.</li>
 * </ul>
 * The model's own threads (kswapd, kcompactd, kworkers, ksoftirqd) have negative task ids and are kernel threads.
 */
final class KernelThreads {
    static final String SNAPSHOT_FILE = "kthreads";

    /**
     * Names of kernel threads, from the kernel's kthread_create() and workqueue rescuer calls and the common
     * filesystem and driver threads (comms are cut at 15 characters).
     */
    static final Pattern NAMES = Pattern.compile("^(kthreadd|kworker/|ksoftirqd/|migration/|rcu_|rcuo[gps]/|rcub/|cpuhp/"
            + "|idle_inject/|watchdog|kswapd|kcompactd|khugepaged|ksmd|kauditd|khungtaskd|oom_reaper|kblockd|kdevtmpfs"
            + "|kthrotld|kintegrityd|irq/|jbd2/|ext4-|xfsaild/|xfs-|btrfs-|txg_|z_|spl_|arc_|dbu_|dbuf_|l2arc_|mmp$|nfsd"
            + "|lockd|scsi_|loop\\d|kstrp|writeback|mm_percpu_wq|kvm-|napi/|nvme|md\\d*_|dm[-_]|bioset|kmpathd|ipv6_addrconf"
            + "|zswap|edac-|pool_workqueue|swapper)");

    private final LongHashSet listed = new LongHashSet();
    private final LongByteHashMap known = new LongByteHashMap();

    /** From a snapshot's {@value #SNAPSHOT_FILE} (null when the trace has none). */
    KernelThreads(String snapshotList) {
        if (snapshotList == null) return;
        for (String line : snapshotList.split("\n")) {
            String t = line.strip();
            int sp = t.indexOf(' ');
            String pid = sp < 0 ? t : t.substring(0, sp);
            if (!pid.isEmpty() && pid.chars().allMatch(Character::isDigit) && pid.length() < 10) listed.add(Long.parseLong(pid));
        }
    }

    /** Whether task {@code task}, last seen as {@code comm}, is a kernel thread. */
    boolean isKthread(long task, String comm) {
        if (task < 0 || task == 0) return true; // the model's threads; pid 0 is the idle task (init_task has PF_KTHREAD)
        int slot = known.indexOf(task);
        if (known.indexExists(slot)) return known.indexGet(slot) != 0;
        boolean k = listed.contains(task) || (comm != null && NAMES.matcher(comm).lookingAt());
        known.indexInsert(slot, task, (byte) (k ? 1 : 0));
        return k;
    }
}
