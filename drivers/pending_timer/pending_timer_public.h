/* pending_timer_public.h - what pending_timer.sys and its client share.
 * \Device\PendingTimer (\\.\PendingTimer): every read is pended and completed 100 ms later
 * by a timer DPC, filled with "tick N " text. Open it with FILE_FLAG_OVERLAPPED to have
 * several reads out at once. */
#pragma once

#define PENDING_TIMER_DELAY_MS 100
