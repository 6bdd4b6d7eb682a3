#!/usr/bin/env python3
"""Runs a command with setpriority(2) failing with EPERM, as systemd's SystemCallFilter=~@resources
does (SystemCallErrorNumber=EPERM): a seccomp filter, then exec. Usage: deny_setpriority.py CMD..."""
import ctypes
import os
import struct
import sys

SYS_SETPRIORITY = 141  # x86-64
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, EPERM = 0x7FFF0000, 0x00050000, 1


def insn(code, k, jt=0, jf=0):
    return struct.pack("HBBI", code, jt, jf, k)


program = b"".join([
    insn(BPF_LD_W_ABS, 0),  # the system call's number
    insn(BPF_JEQ_K, SYS_SETPRIORITY, 0, 1),
    insn(BPF_RET_K, SECCOMP_RET_ERRNO | EPERM),
    insn(BPF_RET_K, SECCOMP_RET_ALLOW),
])


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


libc = ctypes.CDLL(None, use_errno=True)
buffer = ctypes.create_string_buffer(program)
fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
        libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
    sys.exit("deny_setpriority.py: seccomp: " + os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
