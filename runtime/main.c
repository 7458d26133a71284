/* main.c — placeholder; the runtime's owner replaces it. */
int main(void) { return 0; }
