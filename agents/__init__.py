"""memtape agents: recurrent controllers, SB3 policies and the Reinforce algorithm that trains them."""
